#pragma once
// Choosing a pre-compressed sibling (file.br, file.gz) from Accept-Encoding
// (RFC 9110 12.5.3): q-values honoured, "*" covers codings not named, "x-gzip" is gzip,
// q=0 refuses. Parsing allocates nothing: it runs for every static request.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace doorman::statics {

enum class Coding : uint8_t { Identity = 0, Br = 1, Gzip = 2 };

constexpr size_t kCodingCount = 3;

/// "br", "gzip", "" for identity: the Content-Encoding value.
std::string_view codingName(Coding coding) noexcept;
/// ".br", ".gz", "": the sibling file's suffix.
std::string_view codingSuffix(Coding coding) noexcept;

/// The encoded codings a client accepts, best first (ties: br before gzip, smaller files).
/// A coding is left out when its q is 0, or when the client named identity with a
/// higher q than the coding's. Identity itself is always the last resort.
struct CodingPreference {
  std::array<Coding, 2> order{};
  size_t count = 0;
};

CodingPreference preferredCodings(std::string_view acceptEncoding) noexcept;

}  // namespace doorman::statics
