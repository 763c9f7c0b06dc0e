#pragma once

#include <spdlog/common.h>

#include <string>
#include <string_view>

namespace kubetrain {

enum class LogFormat { kText, kJson };

// Configures spdlog's default logger for one process. `tag` prefixes every line (for example
// "rank 1/4") so that the interleaved output of many MPI ranks stays readable.
// With LogFormat::kJson every line is one JSON object {"time","level","source","msg"} with the
// message escaped. Calling it again reconfigures the same logger.
void setup_logging(std::string_view tag, LogFormat format = LogFormat::kText,
                   std::string_view level = "info");

// Parses "text" or "json"; throws std::invalid_argument naming the valid values otherwise.
LogFormat parse_log_format(std::string_view text);

// Parses trace, debug, info, warn (or warning), error (or err), critical, off; throws
// std::invalid_argument naming the valid values otherwise (spdlog itself maps typos to "off").
spdlog::level::level_enum parse_log_level(std::string_view text);

}  // namespace kubetrain
