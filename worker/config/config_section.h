#pragma once

// One mapping of the YAML config, read strictly: the keys it may hold are fixed up front, so an
// unknown key (a typo that would otherwise train silently with a default) is an error that names
// its dotted path, suggests the closest valid key and lists them all. Typed getters parse scalars
// and check ranges, naming the path and the text they got. Every error is a ConfigError.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kubetrain {

// Inclusive integer bounds.
struct IntRange {
  int64_t min = 1;
  int64_t max = std::numeric_limits<int64_t>::max();
};

// Bounds of a real number; infinity leaves a side open.
struct NumberRange {
  double min = 0;
  bool min_inclusive = false;
  double max = std::numeric_limits<double>::infinity();
  bool max_inclusive = false;
};

class ConfigSection {
 public:
  // `node` may be undefined or null (an absent section: every key then reads as absent).
  // `path` is the dotted path of the section, empty for the top level.
  ConfigSection(const YAML::Node& node, std::string path, std::vector<std::string_view> keys);

  bool has(std::string_view key) const;
  // The dotted path of `key` in this section, as errors name it.
  std::string path_of(std::string_view key) const;
  ConfigSection section(std::string_view key, std::vector<std::string_view> keys) const;

  std::optional<int64_t> integer(std::string_view key, IntRange range = {}) const;
  std::optional<double> number(std::string_view key, NumberRange range = {}) const;
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  // One of `choices`, spelled exactly.
  std::optional<std::string> choice(std::string_view key, const std::vector<std::string_view>& choices) const;
  // A sequence of numbers, each in `range` and greater than the one before.
  std::optional<std::vector<double>> ascending_numbers(std::string_view key, NumberRange range) const;

  // The scalar text of `key`, for values with a shape of their own (a word or a number); throws
  // "expected <what>, got a mapping/a sequence/an empty value" for anything but a scalar.
  std::optional<std::string> scalar(std::string_view key, std::string_view what) const;

  // Assigns the value of `key` to `target` when present.
  template <typename T>
  void read(std::string_view key, T& target, IntRange range) const {
    if (std::cmp_less(std::numeric_limits<T>::max(), range.max))
      range.max = static_cast<int64_t>(std::numeric_limits<T>::max());
    if (auto value = integer(key, range)) target = static_cast<T>(*value);
  }
  void read(std::string_view key, double& target, NumberRange range) const {
    if (auto value = number(key, range)) target = *value;
  }
  void read(std::string_view key, bool& target) const {
    if (auto value = boolean(key)) target = *value;
  }
  void read(std::string_view key, std::string& target) const {
    if (auto value = string(key)) target = *value;
  }

 private:
  YAML::Node node(std::string_view key) const;

  YAML::Node node_;
  std::string path_;
};

// "<path>: expected <what>, got '<text>'": the shape of every value error.
[[noreturn]] void throw_expected(const std::string& path, std::string_view what, std::string_view got);

// Parses a whole string as a number (YAML spellings, finite values only); nullopt otherwise.
std::optional<double> parse_number(std::string_view text);

}  // namespace kubetrain
