#pragma once

// --set key.path=value: one assignment applied to the parsed YAML tree before validation, so that
// an override is checked exactly as the same key written in the file would be.

#include <yaml-cpp/yaml.h>

#include <string>

namespace kubetrain {

// Parses the value as YAML (a scalar or a flow collection such as [30, 60] or {a: 1}; an empty value
// is the empty string) and stores it at the dotted path in `root`, creating sections that are
// missing. Throws ConfigError naming the assignment when it has no '=', an empty path segment, a
// value that is not YAML, or a path through a value that is not a section.
void apply_override(YAML::Node& root, const std::string& assignment);

}  // namespace kubetrain
