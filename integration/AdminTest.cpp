// The admin endpoint: /metrics parsed by the official Prometheus client's text parser
// (python3-prometheus-client) and its values checked against the requests sent; /status
// as JSON; off when admin.listen is absent.

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness/Backends.hpp"
#include "harness/Doorman.hpp"
#include "harness/FaultBackend.hpp"
#include "harness/HttpClient.hpp"
#include "harness/IntegrationTest.hpp"
#include "harness/Json.hpp"
#include "harness/Net.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {
namespace {

/// One parsed exposition: every sample of every family, by sample name.
class ParsedMetrics {
 public:
  /// nullopt (with `error`) when the parser refuses the text.
  static std::optional<ParsedMetrics> parse(const TempDir& dir, const std::string& text,
                                            std::string& error) {
    const std::string in = dir.file("metrics.txt");
    const std::string out = dir.file("metrics.json");
    const std::string err = dir.file("metrics.err");
    std::ofstream(in) << text;
    std::string command = std::string("/usr/bin/python3 ") + DOORMAN_SOURCE_DIR +
                          "/integration/backends/parse_metrics.py " + in + " >" + out + " 2>" + err;
    int rc = std::system(command.c_str());
    std::stringstream json, message;
    json << std::ifstream(out).rdbuf();
    message << std::ifstream(err).rdbuf();
    if (rc != 0) {
      error = message.str();
      return std::nullopt;
    }
    auto doc = parseJson(json.str());
    if (!doc) {
      error = "parser output is not JSON";
      return std::nullopt;
    }
    ParsedMetrics parsed;
    for (const auto& [family, body] : (*doc)["families"].members()) {
      parsed.types_[family] = body["type"].str();
      for (const auto& s : body["samples"].elements()) {
        std::map<std::string, std::string> labels;
        for (const auto& [k, v] : s["labels"].members()) {
          labels[k] = v.str();
        }
        parsed.samples_.push_back({s["name"].str(), labels, std::stod(s["value"].str())});
      }
    }
    return parsed;
  }

  /// The value of the sample with this name and (a superset of) these labels; -1 if none.
  double value(const std::string& name,
               const std::map<std::string, std::string>& labels = {}) const {
    for (const auto& s : samples_) {
      if (s.name != name) {
        continue;
      }
      bool all = true;
      for (const auto& [k, v] : labels) {
        auto it = s.labels.find(k);
        all = all && it != s.labels.end() && it->second == v;
      }
      if (all) {
        return s.value;
      }
    }
    return -1;
  }
  /// The family's type as the parser saw it ("" when missing).
  std::string type(const std::string& family) const {
    auto it = types_.find(family);
    return it == types_.end() ? "" : it->second;
  }

 private:
  struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value;
  };
  std::vector<Sample> samples_;
  std::map<std::string, std::string> types_;
};

class AdminTest : public IntegrationTest {
 protected:
  AdminTest() : gunicorn_(dir_, 2), adminPort_(freeTcpPort()) {}

  DoormanConfig config() {
    DoormanConfig c = DoormanConfig::forBackend(gunicorn_.address(), 2);
    c.extra = "admin: { listen: \"" + loopback(adminPort_) + "\" }\n";
    return c;
  }
  std::string admin() const { return loopback(adminPort_); }

  GunicornBackend gunicorn_;
  uint16_t adminPort_;
};

TEST_F(AdminTest, MetricsParseAndCountTheRequestsSent) {
  DoormanProcess doorman(dir_, config());
  for (int i = 0; i < 5; ++i) {
    auto r = fetch(doorman.address(), httpGet("/hello"));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
  }
  for (int code : {404, 404, 500}) {
    auto r = fetch(doorman.address(), httpGet("/status?code=" + std::to_string(code)));
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, code);
  }

  std::optional<ParsedMetrics> metrics;
  std::string error;
  std::string text;
  // The counters are updated when each response's last write completes: poll briefly.
  waitUntil(
      [&] {
        auto page = fetch(admin(), httpGet("/metrics"));
        if (!page || page->status != 200) {
          return false;
        }
        text = page->body;
        metrics = ParsedMetrics::parse(dir_, text, error);
        return metrics && metrics->value("doorman_request_duration_seconds_count") >= 8;
      },
      milliseconds(5000));
  ASSERT_TRUE(metrics) << error << "\n" << text;
  const ParsedMetrics& m = *metrics;
  EXPECT_EQ(m.value("doorman_requests_total", {{"route", "/"}, {"status_class", "2xx"}}), 5);
  EXPECT_EQ(m.value("doorman_requests_total", {{"route", "/"}, {"status_class", "4xx"}}), 2);
  EXPECT_EQ(m.value("doorman_requests_total", {{"route", "/"}, {"status_class", "5xx"}}), 1);
  EXPECT_EQ(m.type("doorman_request_duration_seconds"), "histogram");
  EXPECT_EQ(m.value("doorman_request_duration_seconds_count"), 8);
  EXPECT_EQ(m.value("doorman_request_duration_seconds_bucket", {{"le", "+Inf"}}), 8);
  EXPECT_GT(m.value("doorman_request_duration_seconds_sum"), 0);
  EXPECT_EQ(m.value("doorman_queue_wait_seconds_count", {{"upstream", "app"}}), 8);
  EXPECT_EQ(m.value("doorman_upstream_queue_length", {{"upstream", "app"}}), 0);
  EXPECT_EQ(m.value("doorman_upstream_workers",
                    {{"upstream", "app"}, {"server", gunicorn_.address()}, {"state", "busy"}}),
            0);
  EXPECT_EQ(m.type("doorman_upstream_server_up"), "gauge");
  EXPECT_EQ(
      m.value("doorman_upstream_server_up", {{"upstream", "app"}, {"server", gunicorn_.address()}}),
      1);
  EXPECT_EQ(m.value("doorman_upstream_errors_total", {{"upstream", "app"}, {"kind", "connect"}}),
            0);
  EXPECT_EQ(m.value("doorman_upstream_retries_total", {{"upstream", "app"}}), 0);
  EXPECT_GE(m.value("doorman_connections", {{"state", "idle"}}), 0);
  EXPECT_GE(m.value("doorman_buffered_bytes", {{"where", "memory"}}), 0);
  EXPECT_GE(m.value("doorman_buffered_bytes", {{"where", "disk"}}), 0);
  EXPECT_EQ(m.value("doorman_spills_total"), 0);
  EXPECT_EQ(m.value("doorman_config_reloads_total", {{"result", "success"}}), 0);
  EXPECT_EQ(m.value("doorman_config_reloads_total", {{"result", "failure"}}), 0);
  EXPECT_GE(m.value("doorman_connections_accepted_total"), 8);  // + the harness's readiness probe
}

/// The gauges show what is going on (a request on the only worker, one queued behind it,
/// an idle keep-alive client) and the counters what went wrong, by kind, each counted once:
/// a garbage response, a response timeout, a refused connect whose request then found
/// every server down; and a response that spilled to disk.
TEST_F(AdminTest, GaugesAndErrorCountersFollowWhatHappened) {
  FaultBackend fault(dir_);
  const std::string dead = loopback(freeTcpPort());
  DoormanConfig c = DoormanConfig::forBackend(gunicorn_.address(), 1);
  UpstreamSpec faulty;
  faulty.name = "fault";
  faulty.servers.push_back({fault.address(), 2});
  faulty.responseTimeout = "1s";
  c.upstreams.push_back(faulty);
  UpstreamSpec down;
  down.name = "dead";
  down.servers.push_back({dead, 1});
  down.queueTimeout = "1s";
  c.upstreams.push_back(down);
  c.routes = {{"/f/", "fault"}, {"/dead/", "dead"}, {"/", "app"}};
  c.extra = "admin: { listen: \"" + admin() + "\" }\n";
  DoormanProcess doorman(dir_, c);

  auto statusOf = [&](const std::string& path) {
    auto r = fetch(doorman.address(), httpGet(path), milliseconds(20000));
    return r ? r->status : 0;
  };
  ASSERT_EQ(statusOf("/f/garbage"), 502);
  ASSERT_EQ(statusOf("/f/hang"), 504);
  ASSERT_EQ(statusOf("/dead/x"), 503);
  ASSERT_EQ(statusOf("/large?bytes=300000"), 200);  // over memory_per_message (64 KiB)

  HttpClient idle(doorman.address());
  ASSERT_TRUE(idle.send(httpGet("/hello")));
  ASSERT_TRUE(idle.readResponse());
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=3000")));
  ASSERT_TRUE(waitUntil([&] { return gunicorn_.stats().inflight == 1; }, milliseconds(5000)));
  HttpClient queued(doorman.address());
  ASSERT_TRUE(queued.send(httpGet("/hello")));

  std::optional<ParsedMetrics> metrics;
  std::string error;
  waitUntil(
      [&] {
        auto page = fetch(admin(), httpGet("/metrics"));
        metrics = page ? ParsedMetrics::parse(dir_, page->body, error) : std::nullopt;
        return metrics &&
               metrics->value("doorman_upstream_queue_length", {{"upstream", "app"}}) == 1 &&
               metrics->value("doorman_connections", {{"state", "idle"}}) == 1;
      },
      milliseconds(5000));
  ASSERT_TRUE(metrics) << error;
  const ParsedMetrics& m = *metrics;
  EXPECT_EQ(m.value("doorman_upstream_queue_length", {{"upstream", "app"}}), 1);
  EXPECT_EQ(m.value("doorman_upstream_workers",
                    {{"upstream", "app"}, {"server", gunicorn_.address()}, {"state", "busy"}}),
            1);
  EXPECT_EQ(m.value("doorman_connections", {{"state", "idle"}}), 1);
  EXPECT_EQ(m.value("doorman_connections", {{"state", "waiting"}}), 2);
  EXPECT_EQ(m.value("doorman_exchanges"), 2);  // the idle connection holds none
  EXPECT_EQ(
      m.value("doorman_upstream_errors_total", {{"upstream", "fault"}, {"kind", "bad_response"}}),
      1);
  EXPECT_EQ(m.value("doorman_upstream_errors_total", {{"upstream", "fault"}, {"kind", "timeout"}}),
            1);
  EXPECT_EQ(m.value("doorman_upstream_errors_total", {{"upstream", "dead"}, {"kind", "connect"}}),
            1);
  EXPECT_EQ(
      m.value("doorman_upstream_errors_total", {{"upstream", "dead"}, {"kind", "unavailable"}}), 1);
  EXPECT_EQ(m.value("doorman_upstream_errors_total", {{"upstream", "app"}, {"kind", "connect"}}),
            0);
  EXPECT_EQ(m.value("doorman_requests_total", {{"route", "/f/"}, {"status_class", "5xx"}}), 2);
  EXPECT_EQ(m.value("doorman_requests_total", {{"route", "/dead/"}, {"status_class", "5xx"}}), 1);
  EXPECT_EQ(m.value("doorman_spills_total"), 1);

  auto first = busy.readResponse(milliseconds(10000));
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  auto second = queued.readResponse(milliseconds(10000));
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 200);
}

/// The parser really checks: a broken exposition is refused (so the test above can fail).
TEST_F(AdminTest, TheParserRefusesBrokenText) {
  std::string error;
  EXPECT_FALSE(ParsedMetrics::parse(dir_, "# TYPE x counter\nx{a=\"1\" 3\n", error));
  EXPECT_FALSE(error.empty());
}

TEST_F(AdminTest, StatusIsJsonAndUnknownPathsAre404) {
  DoormanProcess doorman(dir_, config());
  HttpClient held(doorman.address());  // one open connection
  ASSERT_TRUE(held.send(httpGet("/hello")));
  ASSERT_TRUE(held.readResponse());
  auto page = fetch(admin(), httpGet("/status"));
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->header("Content-Type").value_or(""), "application/json");
  auto doc = parseJson(page->body);
  ASSERT_TRUE(doc) << page->body;
  EXPECT_EQ((*doc)["pid"].integer(), doorman.pid());
  EXPECT_EQ((*doc)["generation"].integer(), 1);
  EXPECT_EQ((*doc)["connections"]["open"].integer(), 1);
  EXPECT_EQ((*doc)["upstreams"]["app"]["workers"].integer(), 2);
  EXPECT_EQ((*doc)["listeners"].elements().at(0).str(), doorman.address());
  auto missing = fetch(admin(), httpGet("/nope"));
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto post = fetch(admin(), httpRequest("POST", "/metrics", "x"));
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

/// An idle keep-alive connection is only its socket and a small header: the exchange
/// (parser, request, response, buffers, pinned configuration) of its last request is gone,
/// also after pipelined requests, and a new request gets a new one.
TEST_F(AdminTest, IdleKeepAliveConnectionsHoldNoExchange) {
  DoormanProcess doorman(dir_, config());
  auto statusDoc = [&] {
    auto page = fetch(admin(), httpGet("/status"));
    return page ? parseJson(page->body) : std::nullopt;
  };
  std::vector<std::unique_ptr<HttpClient>> clients;
  for (int i = 0; i < 5; ++i) {
    auto client = std::make_unique<HttpClient>(doorman.address());
    // Two pipelined requests in one write, then idle.
    ASSERT_TRUE(client->send(httpGet("/hello") + httpGet("/hello")));
    for (int r = 0; r < 2; ++r) {
      auto response = client->readResponse();
      ASSERT_TRUE(response);
      EXPECT_EQ(response->status, 200);
    }
    clients.push_back(std::move(client));
  }
  HttpClient busy(doorman.address());
  ASSERT_TRUE(busy.send(httpGet("/sleep?ms=3000")));
  std::optional<JsonValue> doc;
  ASSERT_TRUE(waitUntil(
      [&] {
        doc = statusDoc();
        return doc && (*doc)["connections"]["idle"].integer() == 5 &&
               (*doc)["connections"]["waiting"].integer() == 1;
      },
      milliseconds(5000)));
  EXPECT_EQ((*doc)["exchanges"].integer(), 1);  // the busy connection's only
  auto slow = busy.readResponse(milliseconds(10000));
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->status, 200);
  ASSERT_TRUE(waitUntil(
      [&] {
        doc = statusDoc();
        return doc && (*doc)["connections"]["idle"].integer() == 6;
      },
      milliseconds(5000)));
  EXPECT_EQ((*doc)["exchanges"].integer(), 0);
  // The idle connections still serve their next request.
  for (auto& client : clients) {
    ASSERT_TRUE(client->send(httpGet("/hello")));
    auto response = client->readResponse();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(AdminTest, OffWhenNotConfigured) {
  DoormanProcess doorman(dir_, DoormanConfig::forBackend(gunicorn_.address(), 2));
  EXPECT_EQ(connectTo(admin(), deadlineIn(milliseconds(300))), -1);
  EXPECT_EQ(doorman.log().find("admin endpoint"), std::string::npos);
}

}  // namespace
}  // namespace doorman::it
