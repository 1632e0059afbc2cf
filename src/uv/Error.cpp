#include "doorman/uv/Error.hpp"

#include <uv.h>

#include <string>

namespace doorman::uv {
namespace {

class UvCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "libuv"; }
  std::string message(int code) const override { return uv_strerror(code); }
};

}  // namespace

const std::error_category& category() noexcept {
  static const UvCategory instance;
  return instance;
}

}  // namespace doorman::uv
