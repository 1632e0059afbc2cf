#pragma once
// A deliberately small HTTP/1.1 client over a raw blocking socket, every read and write
// bounded by a poll(2) deadline. Tests need byte-level control that real clients hide:
// pipelining in one write, trickling a request piece by piece, reading a response slowly
// through a small receive buffer, seeing exactly when the peer closes.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/Net.hpp"
#include "harness/Wait.hpp"

namespace doorman::it {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  std::string version;  ///< "HTTP/1.1"
  int status = 0;
  std::string reason;
  HeaderList headers;           ///< in wire order, names as sent
  std::string body;             ///< de-chunked
  bool chunked = false;         ///< the body came with Transfer-Encoding: chunked
  bool closeDelimited = false;  ///< neither Content-Length nor chunked: read to EOF

  /// First value of a header (case-insensitive name).
  std::optional<std::string> header(std::string_view name) const;
  size_t headerCount(std::string_view name) const;
  bool has(std::string_view name) const { return headerCount(name) > 0; }
  /// The Connection header lists the "close" token.
  bool connectionClose() const;
};

class HttpClient {
 public:
  /// Connects (retrying refused connections until `connectTimeout`); throws
  /// std::runtime_error when it cannot.
  explicit HttpClient(const std::string& address, milliseconds connectTimeout = milliseconds(5000),
                      SocketOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&&) = delete;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Writes all bytes; false when the peer closed or reset, or on timeout.
  bool send(std::string_view bytes, milliseconds timeout = milliseconds(10000));
  /// Writes `bytes` in pieces of `pieceSize`, waiting `delay` after each but the last.
  bool sendInPieces(std::string_view bytes, size_t pieceSize, milliseconds delay);
  void shutdownWrite();

  /// Reads one complete response. nullopt on timeout, EOF before a complete response, or
  /// an unparsable response (see error()). `headRequest`: the response has no body.
  std::optional<HttpResponse> readResponse(milliseconds timeout = milliseconds(10000),
                                           bool headRequest = false);
  /// Reads `count` responses (fewer if one fails; see error()).
  std::vector<HttpResponse> readResponses(size_t count, milliseconds timeout = milliseconds(10000));

  /// Receives up to `max` raw bytes into the client's buffer (a later readResponse()
  /// parses them); 0 on timeout or EOF. The slow reader's primitive.
  size_t pull(size_t max, milliseconds timeout);
  /// Bytes received so far that no readResponse() consumed yet.
  size_t buffered() const { return buffer_.size() - consumed_; }
  /// Those bytes themselves (valid until the next read).
  std::string_view received() const { return std::string_view(buffer_).substr(consumed_); }

  /// Reads and discards until the peer closes (true) or the timeout passes (false).
  /// A reset counts as closed.
  bool waitForClose(milliseconds timeout = milliseconds(10000));
  bool eof() const { return eof_; }

  int fd() const { return fd_; }
  const std::string& error() const { return error_; }

 private:
  bool fill(Deadline deadline, size_t max = 65536);
  std::optional<HttpResponse> parseHead(size_t headEnd);
  bool readFixedBody(HttpResponse& response, size_t length, Deadline deadline);
  bool readChunkedBody(HttpResponse& response, Deadline deadline);
  std::optional<std::string> readLine(Deadline deadline);
  void compact();

  int fd_ = -1;
  std::string buffer_;
  size_t consumed_ = 0;
  bool eof_ = false;
  std::string error_;
};

/// "GET path HTTP/1.1" with Host and the given headers.
std::string httpGet(std::string_view path, const HeaderList& headers = {},
                    std::string_view host = "localhost");
/// A request with a Content-Length body.
std::string httpRequest(std::string_view method, std::string_view path, std::string_view body,
                        const HeaderList& headers = {}, std::string_view host = "localhost");
/// A POST whose body is sent with Transfer-Encoding: chunked in `chunkSize` chunks.
std::string httpChunkedPost(std::string_view path, std::string_view body, size_t chunkSize,
                            const HeaderList& headers = {});

/// One request on a fresh connection; nullopt if anything failed.
std::optional<HttpResponse> fetch(const std::string& address, const std::string& rawRequest,
                                  milliseconds timeout = milliseconds(10000));

}  // namespace doorman::it
