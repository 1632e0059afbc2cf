#pragma once
// Sizes ("64KiB", "10MB", "512", "1.5MiB" is rejected) and durations ("500ms", "30s",
// "2m", "1h", "1d", "250us"; a bare number is rejected: the unit is not guessable).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace doorman::core {

using Millis = std::chrono::milliseconds;

/// Bytes from "N", "NB", "NK"/"NKB" (1000), "NKiB" (1024), M/MB/MiB, G/GB/GiB, T/TB/TiB.
/// Case-insensitive units; optional spaces between number and unit; rejects negatives,
/// fractions and overflow.
std::optional<uint64_t> parseSize(std::string_view text);

/// Durations with a mandatory unit: us, ms, s, m, h, d. Sums like "1m30s" are accepted.
/// Result is rounded up to whole milliseconds (250us -> 1ms); rejects overflow.
std::optional<Millis> parseDuration(std::string_view text);

/// "64KiB", "1MiB", "100" for the --dump-config output and messages.
std::string formatSize(uint64_t bytes);
std::string formatDuration(Millis ms);

}  // namespace doorman::core
