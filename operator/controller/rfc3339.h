#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace kubetrain {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

// Kubernetes timestamps ("2026-11-22T20:06:23Z", second precision, UTC).
std::string format_rfc3339(TimePoint time);

// Parses what format_rfc3339 writes, also with fractional seconds or a numeric offset;
// std::nullopt for anything else.
std::optional<TimePoint> parse_rfc3339(std::string_view text);

}  // namespace kubetrain
