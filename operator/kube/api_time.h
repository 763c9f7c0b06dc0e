#pragma once

#include <chrono>
#include <string>

namespace kubetrain {

// metav1.Time: RFC 3339 in UTC with second precision, "2026-01-02T15:04:05Z".
std::string format_api_time(std::chrono::system_clock::time_point time);
// metav1.MicroTime: RFC 3339 in UTC with microseconds, "2026-01-02T15:04:05.123456Z".
std::string format_api_micro_time(std::chrono::system_clock::time_point time);

}  // namespace kubetrain
