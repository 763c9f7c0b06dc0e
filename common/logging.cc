#include "common/logging.h"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <stdexcept>

namespace kubetrain {
namespace {

// Appends `text` as the body of a JSON string (RFC 8259): quotes, backslashes and control
// characters escaped; other bytes, UTF-8 included, copied as they are.
void append_json_escaped(std::string_view text, spdlog::memory_buf_t& dest) {
  for (const char c : text) {
    switch (c) {
      case '"': dest.append(std::string_view("\\\"")); break;
      case '\\': dest.append(std::string_view("\\\\")); break;
      case '\n': dest.append(std::string_view("\\n")); break;
      case '\r': dest.append(std::string_view("\\r")); break;
      case '\t': dest.append(std::string_view("\\t")); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          dest.append(std::string_view(escaped));
        } else {
          dest.push_back(c);
        }
    }
  }
}

// One JSON object per line, as log collectors expect:
// {"time":"2026-11-22T20:06:23.123Z","level":"info","source":"<tag>","msg":"..."}.
class JsonFormatter : public spdlog::formatter {
 public:
  explicit JsonFormatter(std::string tag) : tag_(std::move(tag)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto since_epoch = msg.time.time_since_epoch();
    const std::time_t seconds = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char time[40];
    const std::size_t length = std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(time + length, sizeof time - length, ".%03dZ", static_cast<int>(millis));

    dest.append(std::string_view(R"({"time":")"));
    dest.append(std::string_view(time));
    dest.append(std::string_view(R"(","level":")"));
    const auto level = spdlog::level::to_string_view(msg.level);
    dest.append(std::string_view(level.data(), level.size()));
    dest.append(std::string_view(R"(","source":")"));
    append_json_escaped(tag_, dest);
    dest.append(std::string_view(R"(","msg":")"));
    append_json_escaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
    dest.append(std::string_view("\"}\n"));
  }

  std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(tag_); }

 private:
  std::string tag_;
};

}  // namespace

void setup_logging(std::string_view tag, LogFormat format, std::string_view level) {
  auto logger = spdlog::get("kubetrain");
  if (!logger) logger = spdlog::stderr_color_mt("kubetrain");
  const std::string tag_text(tag);
  if (format == LogFormat::kJson) {
    logger->set_formatter(std::make_unique<JsonFormatter>(tag_text));
  } else {
    const std::string prefix = tag_text.empty() ? "" : "[" + tag_text + "] ";
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ " + prefix + "%v");
  }
  logger->set_level(parse_log_level(level));
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

LogFormat parse_log_format(std::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  throw std::invalid_argument("log format '" + std::string(text) + "' is not one of: text, json");
}

spdlog::level::level_enum parse_log_level(std::string_view text) {
  for (const auto level : {spdlog::level::trace, spdlog::level::debug, spdlog::level::info, spdlog::level::warn,
                           spdlog::level::err, spdlog::level::critical, spdlog::level::off}) {
    const auto name = spdlog::level::to_string_view(level);
    if (text == std::string_view(name.data(), name.size())) return level;
  }
  if (text == "warn") return spdlog::level::warn;
  if (text == "err") return spdlog::level::err;
  throw std::invalid_argument("log level '" + std::string(text) +
                              "' is not one of: trace, debug, info, warn, error, critical, off");
}

}  // namespace kubetrain
