#include "harness/HttpClient.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace doorman::it {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string trim(std::string_view s) {
  auto begin = s.find_first_not_of(" \t");
  if (begin == std::string_view::npos) return "";
  auto end = s.find_last_not_of(" \t");
  return std::string(s.substr(begin, end - begin + 1));
}

}  // namespace

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (equalsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

size_t HttpResponse::headerCount(std::string_view name) const {
  return static_cast<size_t>(std::count_if(headers.begin(), headers.end(), [&](const auto& h) {
    return equalsIgnoreCase(h.first, name);
  }));
}

bool HttpResponse::connectionClose() const {
  for (const auto& [key, value] : headers) {
    if (!equalsIgnoreCase(key, "connection")) continue;
    std::stringstream tokens(value);
    std::string token;
    while (std::getline(tokens, token, ',')) {
      if (lower(trim(token)) == "close") return true;
    }
  }
  return false;
}

HttpClient::HttpClient(const std::string& address, milliseconds connectTimeout,
                       SocketOptions options) {
  fd_ = connectTo(address, deadlineIn(connectTimeout), /*retry=*/false, options);
  if (fd_ < 0) throw std::runtime_error("HttpClient: cannot connect to " + address);
}

HttpClient::~HttpClient() {
  if (fd_ >= 0) ::close(fd_);
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      buffer_(std::move(other.buffer_)),
      consumed_(other.consumed_),
      eof_(other.eof_),
      error_(std::move(other.error_)) {}

bool HttpClient::send(std::string_view bytes, milliseconds timeout) {
  const Deadline deadline = deadlineIn(timeout);
  while (!bytes.empty()) {
    pollfd p{fd_, POLLOUT, 0};
    int r = ::poll(&p, 1, remainingMs(deadline));
    if (r == 0) {
      error_ = "send: timeout";
      return false;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("send: poll: ") + std::strerror(errno);
      return false;
    }
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      error_ = std::string("send: ") + std::strerror(errno);
      return false;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool HttpClient::sendInPieces(std::string_view bytes, size_t pieceSize, milliseconds delay) {
  while (!bytes.empty()) {
    size_t n = std::min(pieceSize, bytes.size());
    if (!send(bytes.substr(0, n))) return false;
    bytes.remove_prefix(n);
    if (!bytes.empty()) std::this_thread::sleep_for(delay);  // the trickle itself
  }
  return true;
}

void HttpClient::shutdownWrite() { ::shutdown(fd_, SHUT_WR); }

bool HttpClient::fill(Deadline deadline, size_t max) {
  if (eof_) return false;
  while (true) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, remainingMs(deadline));
    if (r == 0) {
      error_ = "read: timeout";
      return false;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      error_ = std::string("read: poll: ") + std::strerror(errno);
      return false;
    }
    char chunk[65536];
    ssize_t n = ::recv(fd_, chunk, std::min(max, sizeof(chunk)), MSG_DONTWAIT);
    if (n > 0) {
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n == 0 || errno == ECONNRESET) {
      eof_ = true;
      error_ = n == 0 ? "read: EOF" : "read: connection reset";
      return false;
    }
    if (errno == EINTR || errno == EAGAIN) continue;
    error_ = std::string("read: ") + std::strerror(errno);
    return false;
  }
}

size_t HttpClient::pull(size_t max, milliseconds timeout) {
  size_t before = buffer_.size();
  fill(deadlineIn(timeout), max);
  return buffer_.size() - before;
}

void HttpClient::compact() {
  if (consumed_ > (1u << 20) && consumed_ * 2 > buffer_.size()) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
}

std::optional<std::string> HttpClient::readLine(Deadline deadline) {
  size_t end;
  while ((end = buffer_.find("\r\n", consumed_)) == std::string::npos) {
    if (!fill(deadline)) return std::nullopt;
  }
  std::string line = buffer_.substr(consumed_, end - consumed_);
  consumed_ = end + 2;
  return line;
}

std::optional<HttpResponse> HttpClient::parseHead(size_t headEnd) {
  std::string_view head(buffer_.data() + consumed_, headEnd - consumed_);
  consumed_ = headEnd + 4;
  HttpResponse response;
  auto lineEnd = head.find("\r\n");
  std::string_view statusLine = head.substr(0, lineEnd);
  auto sp1 = statusLine.find(' ');
  if (sp1 == std::string_view::npos || statusLine.substr(0, 5) != "HTTP/") {
    error_ = "bad status line: " + std::string(statusLine);
    return std::nullopt;
  }
  response.version = std::string(statusLine.substr(0, sp1));
  auto sp2 = statusLine.find(' ', sp1 + 1);
  std::string code(statusLine.substr(sp1 + 1, sp2 == std::string_view::npos ? sp2 : sp2 - sp1 - 1));
  if (code.size() != 3 || !std::all_of(code.begin(), code.end(), ::isdigit)) {
    error_ = "bad status code: " + std::string(statusLine);
    return std::nullopt;
  }
  response.status = std::stoi(code);
  if (sp2 != std::string_view::npos) response.reason = std::string(statusLine.substr(sp2 + 1));
  while (lineEnd != std::string_view::npos) {
    size_t start = lineEnd + 2;
    lineEnd = head.find("\r\n", start);
    std::string_view line = head.substr(
        start, lineEnd == std::string_view::npos ? std::string_view::npos : lineEnd - start);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      error_ = "bad header line: " + std::string(line);
      return std::nullopt;
    }
    response.headers.emplace_back(std::string(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return response;
}

bool HttpClient::readFixedBody(HttpResponse& response, size_t length, Deadline deadline) {
  while (buffered() < length) {
    if (!fill(deadline)) return false;
  }
  response.body = buffer_.substr(consumed_, length);
  consumed_ += length;
  return true;
}

bool HttpClient::readChunkedBody(HttpResponse& response, Deadline deadline) {
  while (true) {
    auto sizeLine = readLine(deadline);
    if (!sizeLine) return false;
    size_t size = 0;
    try {
      size = std::stoul(sizeLine->substr(0, sizeLine->find(';')), nullptr, 16);
    } catch (const std::exception&) {
      error_ = "bad chunk size: " + *sizeLine;
      return false;
    }
    if (size == 0) break;
    HttpResponse piece;
    if (!readFixedBody(piece, size + 2, deadline)) return false;
    response.body.append(piece.body, 0, size);
  }
  while (true) {  // trailers, up to the empty line
    auto trailer = readLine(deadline);
    if (!trailer) return false;
    if (trailer->empty()) return true;
  }
}

std::optional<HttpResponse> HttpClient::readResponse(milliseconds timeout, bool headRequest) {
  const Deadline deadline = deadlineIn(timeout);
  compact();
  size_t headEnd;
  while ((headEnd = buffer_.find("\r\n\r\n", consumed_)) == std::string::npos) {
    if (!fill(deadline)) {
      if (eof_ && buffered() > 0) error_ += " (after a partial response head)";
      return std::nullopt;
    }
  }
  auto response = parseHead(headEnd);
  if (!response) return std::nullopt;
  const int status = response->status;
  if (headRequest || (status >= 100 && status < 200) || status == 204 || status == 304) {
    return response;
  }
  auto te = response->header("transfer-encoding");
  if (te && lower(*te).find("chunked") != std::string::npos) {
    response->chunked = true;
    if (!readChunkedBody(*response, deadline)) return std::nullopt;
    return response;
  }
  if (auto length = response->header("content-length")) {
    size_t n = 0;
    try {
      n = std::stoull(*length);
    } catch (const std::exception&) {
      error_ = "bad Content-Length: " + *length;
      return std::nullopt;
    }
    if (!readFixedBody(*response, n, deadline)) return std::nullopt;
    return response;
  }
  response->closeDelimited = true;
  while (fill(deadline)) {
  }
  if (!eof_) return std::nullopt;
  response->body = buffer_.substr(consumed_);
  consumed_ = buffer_.size();
  return response;
}

std::vector<HttpResponse> HttpClient::readResponses(size_t count, milliseconds timeout) {
  const Deadline deadline = deadlineIn(timeout);
  std::vector<HttpResponse> out;
  while (out.size() < count) {
    auto response = readResponse(milliseconds(remainingMs(deadline)));
    if (!response) break;
    out.push_back(std::move(*response));
  }
  return out;
}

bool HttpClient::waitForClose(milliseconds timeout) {
  const Deadline deadline = deadlineIn(timeout);
  while (!eof_) {
    if (!fill(deadline) && !eof_) return false;
    consumed_ = buffer_.size();
    compact();
  }
  return true;
}

std::string httpGet(std::string_view path, const HeaderList& headers, std::string_view host) {
  std::string out = "GET " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  return out + "\r\n";
}

std::string httpRequest(std::string_view method, std::string_view path, std::string_view body,
                        const HeaderList& headers, std::string_view host) {
  std::string out = std::string(method) + " " + std::string(path) +
                    " HTTP/1.1\r\nHost: " + std::string(host) + "\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  return out + std::string(body);
}

std::string httpChunkedPost(std::string_view path, std::string_view body, size_t chunkSize,
                            const HeaderList& headers) {
  std::string out = "POST " + std::string(path) + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& [name, value] : headers) out += name + ": " + value + "\r\n";
  out += "Transfer-Encoding: chunked\r\n\r\n";
  for (size_t at = 0; at < body.size(); at += chunkSize) {
    size_t n = std::min(chunkSize, body.size() - at);
    std::ostringstream size;
    size << std::hex << n;
    out += size.str() + "\r\n" + std::string(body.substr(at, n)) + "\r\n";
  }
  return out + "0\r\n\r\n";
}

std::optional<HttpResponse> fetch(const std::string& address, const std::string& rawRequest,
                                  milliseconds timeout) {
  try {
    HttpClient client(address, timeout);
    if (!client.send(rawRequest, timeout)) return std::nullopt;
    return client.readResponse(timeout);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace doorman::it
