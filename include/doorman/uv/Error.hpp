#pragma once
// libuv error codes (negative UV_E* values) as std::error_code.

#include <system_error>

namespace doorman::uv {

const std::error_category& category() noexcept;

inline std::error_code makeError(int uvCode) noexcept { return {uvCode, category()}; }

}  // namespace doorman::uv
