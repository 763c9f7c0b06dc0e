#pragma once

#include <string>
#include <string_view>

namespace kubetrain {

enum class LogFormat { kText, kJson };

// Configures spdlog's default logger for one process. `tag` prefixes every line (for example
// "rank 1/4") so that the interleaved output of many MPI ranks stays readable.
void setup_logging(std::string_view tag, LogFormat format = LogFormat::kText,
                   std::string_view level = "info");

// Parses "text" or "json"; throws std::invalid_argument naming the valid values otherwise.
LogFormat parse_log_format(std::string_view text);

}  // namespace kubetrain
