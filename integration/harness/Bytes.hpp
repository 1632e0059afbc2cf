#pragma once
// Payloads and their fingerprints: the same deterministic pattern testapp.py serves from
// /large and /chunked, and SHA-256 to compare a body with what the backend received.

#include <cstddef>
#include <string>
#include <string_view>

namespace doorman::it {

/// Bytes [start, start + count) of the infinite repetition of
/// "A..Za..z0..9+/" (testapp.pattern_bytes).
std::string patternBytes(size_t start, size_t count);

/// Lower-case hex SHA-256 (FIPS 180-4) of `data`.
std::string sha256Hex(std::string_view data);

}  // namespace doorman::it
