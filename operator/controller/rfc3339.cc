#include "operator/controller/rfc3339.h"

#include <cstdio>
#include <ctime>

namespace kubetrain {

std::string format_rfc3339(TimePoint time) {
  const std::time_t seconds = Clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::optional<TimePoint> parse_rfc3339(std::string_view text) {
  const std::string copy(text);
  std::tm utc{};
  int consumed = 0;
  if (std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  std::size_t pos = static_cast<std::size_t>(consumed);
  if (pos < copy.size() && copy[pos] == '.') {
    ++pos;
    while (pos < copy.size() && copy[pos] >= '0' && copy[pos] <= '9') ++pos;
  }
  long offset_seconds = 0;
  if (pos < copy.size() && (copy[pos] == 'Z' || copy[pos] == 'z')) {
    ++pos;
  } else if (pos < copy.size() && (copy[pos] == '+' || copy[pos] == '-')) {
    int hours = 0, minutes = 0;
    if (std::sscanf(copy.c_str() + pos + 1, "%2d:%2d", &hours, &minutes) != 2) return std::nullopt;
    offset_seconds = (hours * 3600L + minutes * 60L) * (copy[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != copy.size()) return std::nullopt;
  const std::time_t seconds = timegm(&utc) - offset_seconds;
  return Clock::from_time_t(seconds);
}

}  // namespace kubetrain
