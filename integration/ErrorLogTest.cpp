// The error log (log: { level, path }): one line per event, with its level, the client
// connection's id, the request id and what doorman was doing, nginx style ("... while
// reading response header from upstream, client: ..., conn: 7, request: ID "GET / HTTP/1.1",
// upstream: "app" 127.0.0.1:PORT"). Each kind of event is provoked for real and its line
// parsed; levels filter; the file is reopened on SIGUSR1.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

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

struct ErrorLine {
  std::string raw;
  std::string level;
  std::string message;
  std::string doing;
  std::string client;
  uint64_t conn = 0;
  std::string request;
  std::string requestLine;  ///< "METHOD TARGET HTTP/1.x", empty before the head is known
  std::string upstream;
  std::string server;
};

/// A line about a connection or an exchange; nullopt for other lines ("listening on").
std::optional<ErrorLine> parseErrorLine(const std::string& raw) {
  static const std::regex kLine(
      R"re(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) (.*) while ([a-z ()-]+), client: (\S+), conn: (\d+), request: (\S+)(?: "([^"]*)")?(?:, upstream: "([^"]*)"(?: (\S+))?)?$)re");
  std::smatch m;
  if (!std::regex_match(raw, m, kLine)) {
    return std::nullopt;
  }
  ErrorLine line;
  line.raw = raw;
  line.level = m[1];
  line.message = m[2];
  line.doing = m[3];
  line.client = m[4];
  line.conn = std::stoull(m[5]);
  line.request = m[6];
  line.requestLine = m[7];
  line.upstream = m[8];
  line.server = m[9];
  return line;
}

std::vector<std::string> readLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

/// "127.0.0.1:PORT" of the client's end of a connection.
std::string localAddress(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  return "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
}

/// Closes the client's socket with an RST instead of a FIN.
void resetConnection(HttpClient& client) {
  linger abort{1, 0};
  ::setsockopt(client.fd(), SOL_SOCKET, SO_LINGER, &abort, sizeof abort);
  ::shutdown(client.fd(), SHUT_RDWR);
}

class ErrorLogTest : public IntegrationTest {
 protected:
  ErrorLogTest()
      : gunicorn_(dir_, 2),
        fault_(dir_),
        deadAddress_("127.0.0.1:" + std::to_string(freeTcpPort())),
        errorLog_(dir_.file("error.log")),
        accessLog_(dir_.file("access.json")) {}

  /// app (gunicorn), fault (fault_server.py) and dead (nobody listens), 1 s timeouts.
  DoormanConfig config(const std::string& level) {
    DoormanConfig c = DoormanConfig::forBackend(gunicorn_.address(), 2);
    UpstreamSpec fault;
    fault.name = "fault";
    fault.servers.push_back({fault_.address(), 2});
    fault.responseTimeout = "1s";
    c.upstreams.push_back(fault);
    UpstreamSpec dead;
    dead.name = "dead";
    dead.servers.push_back({deadAddress_, 1});
    dead.queueTimeout = "1s";
    c.upstreams.push_back(dead);
    c.routes = {{"/f/", "fault"}, {"/dead/", "dead"}, {"/", "app"}};
    c.timeouts = "{ header: 1s, body_idle: 1s, send_idle: 60s, keepalive: 75s }";
    c.logLevel = level;
    c.logPath = errorLog_;
    c.extra = "access_log: { path: \"" + accessLog_ + "\", format: json }\n";
    return c;
  }

  std::vector<ErrorLine> linesAbout(const std::string& requestId) const {
    std::vector<ErrorLine> out;
    for (const auto& raw : readLines(errorLog_)) {
      if (auto line = parseErrorLine(raw); line && line->request == requestId) {
        out.push_back(*line);
      }
    }
    return out;
  }

  /// Waits until the log holds `count` lines about `requestId` (written after the
  /// response, e.g. a reset seen while sending).
  std::vector<ErrorLine> waitForLines(const std::string& requestId, size_t count) const {
    std::vector<ErrorLine> lines;
    waitUntil(
        [&] {
          lines = linesAbout(requestId);
          return lines.size() >= count;
        },
        milliseconds(10000));
    return lines;
  }

  int statusOf(const DoormanProcess& doorman, const std::string& path, const std::string& rid) {
    auto response =
        fetch(doorman.address(), httpGet(path, {{"X-Request-ID", rid}}), milliseconds(20000));
    return response ? response->status : 0;
  }

  GunicornBackend gunicorn_;
  FaultBackend fault_;
  std::string deadAddress_;
  std::string errorLog_;
  std::string accessLog_;
};

TEST_F(ErrorLogTest, EachEventIsOneLineWithIdsAndWhatDoormanWasDoing) {
  DoormanProcess doorman(dir_, config("info"));
  std::set<uint64_t> conns;

  // Upstream connect refused: the request waits for a server (warn), then its queue
  // timeout passes with every server down (warn, 503). Same connection, same request.
  ASSERT_EQ(statusOf(doorman, "/dead/x", "rid-refused"), 503);
  auto refused = linesAbout("rid-refused");
  ASSERT_EQ(refused.size(), 2u) << doorman.log();
  EXPECT_EQ(refused[0].level, "warn") << refused[0].raw;
  EXPECT_EQ(refused[0].doing, "connecting to upstream") << refused[0].raw;
  EXPECT_NE(refused[0].message.find("connection refused"), std::string::npos) << refused[0].raw;
  EXPECT_EQ(refused[0].requestLine, "GET /dead/x HTTP/1.1");
  EXPECT_EQ(refused[0].upstream, "dead");
  EXPECT_EQ(refused[0].server, deadAddress_);
  EXPECT_TRUE(std::regex_match(refused[0].client, std::regex(R"(127\.0\.0\.1:\d+)")))
      << refused[0].raw;
  EXPECT_EQ(refused[1].level, "warn") << refused[1].raw;
  EXPECT_EQ(refused[1].doing, "waiting in queue for a worker") << refused[1].raw;
  EXPECT_NE(refused[1].message.find("answering 503"), std::string::npos) << refused[1].raw;
  EXPECT_EQ(refused[1].conn, refused[0].conn);
  conns.insert(refused[0].conn);

  // Upstream response timeout: 504, one error line.
  ASSERT_EQ(statusOf(doorman, "/f/hang", "rid-timeout"), 504);
  auto timeout = linesAbout("rid-timeout");
  ASSERT_EQ(timeout.size(), 1u) << doorman.log();
  EXPECT_EQ(timeout[0].level, "error") << timeout[0].raw;
  EXPECT_EQ(timeout[0].doing, "reading response header from upstream") << timeout[0].raw;
  EXPECT_EQ(timeout[0].message, "upstream timed out (response 1000 ms); answering 504");
  EXPECT_EQ(timeout[0].requestLine, "GET /f/hang HTTP/1.1");
  EXPECT_EQ(timeout[0].upstream, "fault");
  EXPECT_EQ(timeout[0].server, fault_.address());
  conns.insert(timeout[0].conn);

  // Garbage from the upstream: 502, one error line.
  ASSERT_EQ(statusOf(doorman, "/f/garbage", "rid-garbage"), 502);
  auto garbage = linesAbout("rid-garbage");
  ASSERT_EQ(garbage.size(), 1u) << doorman.log();
  EXPECT_EQ(garbage[0].level, "error") << garbage[0].raw;
  EXPECT_EQ(garbage[0].doing, "reading response header from upstream") << garbage[0].raw;
  EXPECT_NE(garbage[0].message.find("answering 502"), std::string::npos) << garbage[0].raw;
  EXPECT_EQ(garbage[0].upstream, "fault");
  conns.insert(garbage[0].conn);

  // The client stops sending its body: 408, one info line, no upstream involved.
  std::string bodyClient;
  {
    HttpClient client(doorman.address());
    bodyClient = localAddress(client.fd());
    ASSERT_TRUE(
        client.send("POST /body HTTP/1.1\r\nHost: x\r\nX-Request-ID: rid-body\r\nContent-Length: "
                    "10\r\n\r\nab"));
    auto response = client.readResponse(milliseconds(10000));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
  }
  auto body = linesAbout("rid-body");
  ASSERT_EQ(body.size(), 1u) << doorman.log();
  EXPECT_EQ(body[0].level, "info") << body[0].raw;
  EXPECT_EQ(body[0].doing, "reading client request body") << body[0].raw;
  EXPECT_EQ(body[0].message, "client timed out (timeouts.body_idle 1000 ms); answering 408");
  EXPECT_EQ(body[0].requestLine, "POST /body HTTP/1.1");
  EXPECT_EQ(body[0].client, bodyClient) << body[0].raw;
  EXPECT_EQ(body[0].upstream, "");
  conns.insert(body[0].conn);

  // The client stops in the middle of its head: 408; the request id doorman gave it is
  // the one in the access log.
  {
    HttpClient client(doorman.address());
    ASSERT_TRUE(client.send("GET /slow-head HTTP/1.1\r\nHost: x\r\n"));
    auto response = client.readResponse(milliseconds(10000));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
  }
  std::string headRid;
  waitUntil(
      [&] {
        for (const auto& raw : readLines(accessLog_)) {
          auto json = parseJson(raw);
          // Neither 408 completed its request (no method logged); rid-body is the other.
          if (json && (*json)["status"].integer() == 408 &&
              (*json)["request_id"].str() != "rid-body") {
            headRid = (*json)["request_id"].str();
          }
        }
        return !headRid.empty();
      },
      milliseconds(5000));
  ASSERT_FALSE(headRid.empty()) << "no 408 in the access log";
  auto head = linesAbout(headRid);
  ASSERT_EQ(head.size(), 1u) << doorman.log();
  EXPECT_EQ(head[0].level, "info") << head[0].raw;
  EXPECT_EQ(head[0].doing, "reading client request headers") << head[0].raw;
  EXPECT_EQ(head[0].message, "client timed out (timeouts.header 1000 ms); answering 408");
  EXPECT_EQ(head[0].requestLine, "");
  conns.insert(head[0].conn);

  // The client resets while a large response is being written to it: one info line,
  // written while sending.
  {
    HttpClient client(doorman.address(), milliseconds(5000), SocketOptions{4096});
    ASSERT_TRUE(client.send(httpGet("/large?bytes=16000000", {{"X-Request-ID", "rid-reset"}})));
    ASSERT_GT(client.pull(4096, milliseconds(20000)), 0u);
    resetConnection(client);
  }
  auto reset = waitForLines("rid-reset", 1);
  ASSERT_EQ(reset.size(), 1u) << doorman.log();
  EXPECT_EQ(reset[0].level, "info") << reset[0].raw;
  EXPECT_EQ(reset[0].doing, "sending response to client") << reset[0].raw;
  EXPECT_TRUE(reset[0].message == "connection reset by peer" || reset[0].message == "broken pipe")
      << reset[0].raw;
  EXPECT_EQ(reset[0].requestLine, "GET /large?bytes=16000000 HTTP/1.1");
  EXPECT_EQ(reset[0].upstream, "app");
  EXPECT_EQ(reset[0].server, gunicorn_.address());
  conns.insert(reset[0].conn);

  EXPECT_EQ(conns.size(), 6u) << "each client connection has its own id";
}

TEST_F(ErrorLogTest, LevelFiltersAndThePathIsReopenedOnSigusr1) {
  DoormanProcess doorman(dir_, config("error"));
  ASSERT_EQ(statusOf(doorman, "/f/garbage", "rid-1"), 502);
  {
    HttpClient client(doorman.address());  // an info event: filtered out
    ASSERT_TRUE(client.send("GET /slow-head HTTP/1.1\r\nHost: x\r\n"));
    auto response = client.readResponse(milliseconds(10000));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 408);
  }
  ASSERT_EQ(statusOf(doorman, "/f/garbage", "rid-2"), 502);
  auto lines = readLines(errorLog_);
  ASSERT_EQ(lines.size(), 2u) << "only the two error events:\n" << joinLines(lines);
  for (const auto& raw : lines) {
    auto line = parseErrorLine(raw);
    ASSERT_TRUE(line) << raw;
    EXPECT_EQ(line->level, "error") << raw;
  }
  EXPECT_EQ(linesAbout("rid-1").size(), 1u);

  // logrotate: move the file away, SIGUSR1, the next line goes to a new file.
  const std::string rotated = errorLog_ + ".1";
  std::filesystem::rename(errorLog_, rotated);
  ASSERT_EQ(::kill(doorman.pid(), SIGUSR1), 0);
  ASSERT_TRUE(waitUntil([&] { return std::filesystem::exists(errorLog_); }, milliseconds(5000)));
  ASSERT_EQ(statusOf(doorman, "/f/garbage", "rid-3"), 502);
  EXPECT_EQ(linesAbout("rid-3").size(), 1u) << joinLines(readLines(errorLog_));
  EXPECT_EQ(readLines(rotated).size(), 2u);
}

}  // namespace
}  // namespace doorman::it
