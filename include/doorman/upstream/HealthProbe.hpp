#pragma once
// One health probe of one upstream server: a connect (passive health: "does it accept
// again?") or, with a request, a connect plus one HTTP exchange whose status must be
// 2xx or 3xx (active health checks). The result is reported once, always from a loop
// event (never from inside start()), then the probe is finished; its owner deletes it
// (deferred: the report arrives inside the probe's own callback).
//
//   New --start()--> Connecting --connected, no request--> Finished(ok)
//                        |        --connected, request--> Exchanging --status line--> Finished
//                        +--failure / timeout------------------------------------> Finished(failed)

#include <cstdint>
#include <string>

#include "doorman/upstream/Endpoint.hpp"
#include "doorman/uv/Handle.hpp"
#include "doorman/uv/Loop.hpp"
#include "doorman/uv/Timer.hpp"

namespace doorman::upstream {

class HealthProbeListener {
 public:
  /// `detail` says why a probe failed (for logs).
  virtual void onProbeResult(bool healthy, const std::string& detail) = 0;

 protected:
  ~HealthProbeListener() = default;
};

class HealthProbe final : public uv::Deletable, private uv::TimerListener {
 public:
  enum class State { New, Connecting, Exchanging, Finished };

  /// `request`: empty for a bare connect, else the bytes of one HTTP request (with
  /// Connection: close). `timeoutMs` bounds the whole probe.
  HealthProbe(uv::Loop& loop, const Endpoint& endpoint, std::string request, uint64_t timeoutMs,
              HealthProbeListener& listener);
  ~HealthProbe() override;
  HealthProbe(const HealthProbe&) = delete;
  HealthProbe& operator=(const HealthProbe&) = delete;

  void start();
  State state() const noexcept { return state_; }

 private:
  void onTimer() override;
  void onConnected(int status);
  void onRead(ssize_t nread, const char* data);
  void finish(bool healthy, const std::string& detail);
  uv_stream_t* stream() noexcept;

  uv::Loop& loop_;
  const Endpoint& endpoint_;
  std::string request_;
  uint64_t timeoutMs_;
  HealthProbeListener& listener_;
  State state_ = State::New;
  uv::HandlePtr<uv_tcp_t> tcp_;
  uv::HandlePtr<uv_pipe_t> pipe_;
  uv::Timer timer_;
  std::string response_;    ///< the start of the response, until its status line is complete
  std::string startError_;  ///< a synchronous connect failure, reported from the timer
};

}  // namespace doorman::upstream
