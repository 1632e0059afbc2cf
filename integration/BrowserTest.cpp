// A real browser through doorman: headless Chromium (Debian's chromium, installed by the
// integration_browser_deps test fixture) loads the demo page, whose HTML comes from the
// demo gunicorn app and whose CSS, JS and icon come from doorman's static route. Chromium's
// own network log (--log-net-log) tells which URLs it fetched and what each answer was;
// every one must be 200 or 304. A screenshot is kept as a test artifact under the build
// directory (test-artifacts/browser-demo.png).

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Process.hpp"

namespace doorman::it {
namespace {

namespace fs = std::filesystem;

std::string artifactDir() {
  std::string dir = fs::path(DOORMAN_BINARY).parent_path().string() + "/test-artifacts";
  fs::create_directories(dir);
  return dir;
}

struct Fetch {
  std::string url;
  std::vector<int> statuses;  ///< one per response head read from the network
  bool fromCache = false;     ///< answered by Chromium's own HTTP cache (an earlier 200)
};

/// Requests to `origin` in a Chromium NetLog file, by source id. The log holds one event
/// per line: URL_REQUEST_START_JOB lines carry "method" and "url", response header
/// events carry "headers":["HTTP/1.1 200 OK", ...]; both name the request's source id.
std::map<int, Fetch> fetchesIn(const std::string& netLog, const std::string& origin) {
  static const std::regex request(
      R"re("method":"[A-Z]+".*"url":"([^"]*)".*"source":\{"id":(\d+))re");
  static const std::regex response(
      R"re("headers":\["HTTP/1\.[01] (\d{3})[^"]*".*"source":\{"id":(\d+))re");
  std::map<int, Fetch> fetches;
  std::smatch m;
  // Event types are numbers, named in the log's constants.
  std::string cacheRead = "-";
  if (std::regex_search(netLog, m, std::regex(R"re("HTTP_CACHE_READ_INFO":(\d+))re"))) {
    cacheRead = m[1];
  }
  const std::regex cached(R"re("source":\{"id":(\d+)[^}]*\},"time":"\d+","type":)re" + cacheRead +
                          "\\}");
  std::istringstream in(netLog);
  std::string line;
  while (std::getline(in, line)) {
    if (std::regex_search(line, m, cached)) {
      auto found = fetches.find(std::stoi(m[1]));
      if (found != fetches.end()) {
        found->second.fromCache = true;
      }
    } else if (std::regex_search(line, m, request) && m[1].str().rfind(origin, 0) == 0) {
      fetches[std::stoi(m[2])].url = m[1];
    } else if (std::regex_search(line, m, response)) {
      auto found = fetches.find(std::stoi(m[2]));
      if (found != fetches.end()) {
        found->second.statuses.push_back(std::stoi(m[1]));
      }
    }
  }
  return fetches;
}

class BrowserTest : public IntegrationTest {
 protected:
  BrowserTest() : app_(dir_, 2) {
    std::string yaml =
        "listen: [ \"127.0.0.1:{port}\" ]\n"
        "buffering: { temp_dir: \"{dir}\" }\n"
        "upstreams:\n  demo:\n    servers: [ { address: \"" +
        app_.address() +
        "\", workers: 2 } ]\n"
        "routes:\n"
        "  - { prefix: /static/, static: { root: \"" +
        demoDir() +
        "/static\", max_age: 1h } }\n"
        "  - { prefix: /, upstream: demo }\n";
    doorman_ = std::make_unique<DoormanProcess>(dir_, yaml);
  }

  /// Runs headless Chromium with a fresh profile on `url` plus `extra` flags; its stdout.
  std::string chromium(const std::string& url, std::vector<std::string> extra, int& exitCode) {
    ProcessOptions options;
    options.name = "chromium";
    options.argv = {"chromium",
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--user-data-dir=" + dir_.file("profile-" + std::to_string(++runs_))};
    options.argv.insert(options.argv.end(), extra.begin(), extra.end());
    options.argv.push_back(url);
    options.env = {{"HOME", dir_.path()}};
    options.logPath = dir_.file("chromium-" + std::to_string(runs_) + ".log");
    std::string output;
    auto status = runToCompletion(options, milliseconds(90000), output);
    exitCode = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    return output;
  }

  DemoAppBackend app_;
  std::unique_ptr<DoormanProcess> doorman_;
  int runs_ = 0;
};

TEST_F(BrowserTest, DemoPageLoadsWithEveryAssetThroughDoorman) {
  const std::string origin = "http://" + doorman_->address();
  const std::string netLog = dir_.file("netlog.json");
  const std::string screenshot = artifactDir() + "/browser-demo.png";
  fs::remove(screenshot);
  int code = 0;
  chromium(origin + "/",
           {"--log-net-log=" + netLog, "--screenshot=" + screenshot, "--window-size=1024,768"},
           code);
  ASSERT_EQ(code, 0) << readFile(dir_.file("chromium-1.log"));

  std::map<int, Fetch> fetches = fetchesIn(readFile(netLog), origin);
  std::set<std::string> urls;
  for (const auto& [id, fetch] : fetches) {
    urls.insert(fetch.url);
    EXPECT_TRUE(!fetch.statuses.empty() || fetch.fromCache) << fetch.url << ": no response";
    for (int status : fetch.statuses) {
      EXPECT_TRUE(status == 200 || status == 304) << fetch.url << ": " << status;
    }
  }
  for (const char* asset : {"/", "/static/style.css", "/static/app.js", "/static/logo.svg"}) {
    EXPECT_TRUE(urls.count(origin + asset) == 1) << asset << " was never fetched";
  }

  // The screenshot is a real PNG of some size (the page rendered).
  std::string png = readFile(screenshot);
  ASSERT_GT(png.size(), 1000u) << "no screenshot at " << screenshot;
  EXPECT_EQ(png.substr(1, 3), "PNG");

  // The DOM after scripts ran: the app's page with the form that posts to the app.
  std::string dom = chromium(origin + "/", {"--dump-dom"}, code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(dom.find("<form method=\"post\" action=\"/submit\">"), std::string::npos) << dom;
  EXPECT_NE(dom.find("Served by sync worker pid"), std::string::npos) << dom;

  // The form's target is the gunicorn app behind doorman.
  auto posted = fetch(doorman_->address(),
                      httpRequest("POST", "/submit", "name=doorman&message=hello+world",
                                  {{"Content-Type", "application/x-www-form-urlencoded"}}));
  ASSERT_TRUE(posted);
  EXPECT_EQ(posted->status, 200);
  EXPECT_NE(posted->body.find("hello world"), std::string::npos) << posted->body;
}

}  // namespace
}  // namespace doorman::it
