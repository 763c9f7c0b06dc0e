#include "worker/config/config_section.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

std::string join(const std::vector<std::string_view>& words) {
  std::string text;
  for (std::string_view word : words) {
    if (!text.empty()) text += ", ";
    text += word;
  }
  return text;
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Optimal-string-alignment distance, case-insensitive: "prefetsh", "modle" and "learning_rate"
// are all close to what their authors meant.
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) && lower(a[i - 2]) == lower(b[j - 1]))
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// The valid key nearest to `key`, when it is near enough to be the likely intent.
std::optional<std::string_view> closest(std::string_view key, const std::vector<std::string_view>& keys) {
  const size_t allowed = std::clamp<size_t>(key.size() / 3, 1, 3);
  std::optional<std::string_view> best;
  size_t best_distance = allowed + 1;
  for (std::string_view candidate : keys) {
    const size_t distance = edit_distance(key, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string format_bound(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

// Bounds from the width of the target type (int, int64) are left out: they only matter for values
// nobody means, which then get the "<= max" message of ConfigSection::integer.
std::string describe(IntRange range) {
  if (range.max >= std::numeric_limits<int32_t>::max()) {
    if (range.min == 1) return "a positive integer";
    if (range.min == 0) return "a non-negative integer";
    return "an integer >= " + std::to_string(range.min);
  }
  return "an integer in [" + std::to_string(range.min) + ", " + std::to_string(range.max) + "]";
}

std::string describe(NumberRange range) {
  if (std::isinf(range.max)) {
    if (range.min == 0) return range.min_inclusive ? "a non-negative number" : "a positive number";
    return std::string("a number ") + (range.min_inclusive ? ">= " : "> ") + format_bound(range.min);
  }
  return std::string("a number in ") + (range.min_inclusive ? "[" : "(") + format_bound(range.min) +
         ", " + format_bound(range.max) + (range.max_inclusive ? "]" : ")");
}

bool in_range(double value, NumberRange range) {
  const bool above = range.min_inclusive ? value >= range.min : value > range.min;
  const bool below = range.max_inclusive ? value <= range.max : value < range.max;
  return above && below;
}

std::optional<int64_t> parse_integer(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string quoted(std::string_view text) {
  std::string result(1, '\'');
  result.append(text).push_back('\'');
  return result;
}

}  // namespace

void throw_expected(const std::string& path, std::string_view what, std::string_view got) {
  throw ConfigError(path + ": expected " + std::string(what) + ", got " + std::string(got));
}

std::optional<double> parse_number(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || !std::isfinite(value))
    return std::nullopt;
  return value;
}

ConfigSection::ConfigSection(const YAML::Node& node, std::string path,
                             std::vector<std::string_view> keys)
    : node_(node), path_(std::move(path)) {
  if (!node_.IsDefined() || node_.IsNull()) return;
  if (!node_.IsMap()) {
    const std::string where = path_.empty() ? "config" : path_;
    throw_expected(where, "a mapping of keys (" + join(keys) + ")",
                   node_.IsSequence() ? "a sequence" : quoted(node_.Scalar()));
  }
  std::set<std::string> seen;
  for (const auto& entry : node_) {
    if (!entry.first.IsScalar())
      throw ConfigError((path_.empty() ? "config" : path_) + ": keys must be plain names");
    const std::string key = entry.first.Scalar();
    if (!seen.insert(key).second) throw ConfigError(path_of(key) + ": key given twice");
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    std::string message = path_of(key) + ": unknown key; ";
    if (auto suggestion = closest(key, keys)) message += "did you mean " + path_of(*suggestion) + "? ";
    throw ConfigError(message + "valid keys: " + join(keys));
  }
}

bool ConfigSection::has(std::string_view key) const {
  return node_.IsMap() && node_[std::string(key)].IsDefined();
}

std::string ConfigSection::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

YAML::Node ConfigSection::node(std::string_view key) const {
  return has(key) ? node_[std::string(key)] : YAML::Node();
}

ConfigSection ConfigSection::section(std::string_view key, std::vector<std::string_view> keys) const {
  return ConfigSection(node(key), path_of(key), std::move(keys));
}

std::optional<std::string> ConfigSection::scalar(std::string_view key, std::string_view what) const {
  if (!has(key)) return std::nullopt;
  const YAML::Node value = node(key);
  if (value.IsMap()) throw_expected(path_of(key), what, "a mapping");
  if (value.IsSequence()) throw_expected(path_of(key), what, "a sequence");
  if (value.IsNull()) throw_expected(path_of(key), what, "an empty value");
  return value.Scalar();
}

std::optional<int64_t> ConfigSection::integer(std::string_view key, IntRange range) const {
  const std::string what = describe(range);
  auto text = scalar(key, what);
  if (!text) return std::nullopt;
  auto value = parse_integer(*text);
  if (!value || *value < range.min) throw_expected(path_of(key), what, quoted(*text));
  if (*value > range.max) {
    const bool max_described = range.max < std::numeric_limits<int32_t>::max();
    throw_expected(path_of(key), max_described ? what : "an integer <= " + std::to_string(range.max),
                   quoted(*text));
  }
  return value;
}

std::optional<double> ConfigSection::number(std::string_view key, NumberRange range) const {
  const std::string what = describe(range);
  auto text = scalar(key, what);
  if (!text) return std::nullopt;
  auto value = parse_number(*text);
  if (!value || !in_range(*value, range)) throw_expected(path_of(key), what, quoted(*text));
  return value;
}

std::optional<bool> ConfigSection::boolean(std::string_view key) const {
  auto text = scalar(key, "true or false");
  if (!text) return std::nullopt;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  throw_expected(path_of(key), "true or false", quoted(*text));
}

std::optional<std::string> ConfigSection::string(std::string_view key) const {
  return scalar(key, "a string");
}

std::optional<std::string> ConfigSection::choice(std::string_view key,
                                                 const std::vector<std::string_view>& choices) const {
  const std::string what = "one of " + join(choices);
  auto text = scalar(key, what);
  if (text && std::find(choices.begin(), choices.end(), *text) == choices.end())
    throw_expected(path_of(key), what, quoted(*text));
  return text;
}

std::optional<std::vector<double>> ConfigSection::ascending_numbers(std::string_view key,
                                                                    NumberRange range) const {
  if (!has(key)) return std::nullopt;
  const YAML::Node list = node(key);
  const std::string what = "a list of ascending numbers, each " + describe(range);
  if (!list.IsSequence())
    throw_expected(path_of(key), what, list.IsMap() ? "a mapping" : quoted(list.Scalar()));
  std::vector<double> values;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string where = path_of(key) + "[" + std::to_string(i) + "]";
    const YAML::Node item = list[i];
    const std::string text = item.IsScalar() ? item.Scalar() : "";
    auto value = item.IsScalar() ? parse_number(text) : std::nullopt;
    if (!value || !in_range(*value, range))
      throw_expected(where, describe(range), item.IsScalar() ? quoted(text) : "a collection");
    if (!values.empty() && *value <= values.back())
      throw_expected(where, "a number greater than " + format_bound(values.back()) + " (the list must ascend)",
                     quoted(text));
    values.push_back(*value);
  }
  return values;
}

}  // namespace kubetrain
