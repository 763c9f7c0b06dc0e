#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace kubetrain {

void setup_logging(std::string_view tag, LogFormat format, std::string_view level) {
  auto logger = spdlog::stderr_color_mt("kubetrain");
  const std::string escaped_tag(tag);
  if (format == LogFormat::kJson) {
    // One JSON object per line, as log collectors expect; %v is escaped by the caller's messages
    // being plain text without quotes in practice, so the payload is kept as a string field.
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","source":")" +
                            escaped_tag + R"(","msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    const std::string prefix = escaped_tag.empty() ? "" : "[" + escaped_tag + "] ";
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ " + prefix + "%v");
  }
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

LogFormat parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  throw std::invalid_argument("log format '" + std::string(text) + "' is not one of: text, json");
}

}  // namespace kubetrain
