#include "worker/config/config_overrides.h"

#include <string_view>
#include <vector>

#include "worker/config/config.h"

namespace kubetrain {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) return parts;
    start = dot + 1;
  }
}

YAML::Node parse_value(const std::string& text, const std::string& assignment) {
  if (text.empty()) return YAML::Node(std::string());
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& error) {
    throw ConfigError("--set " + assignment + ": the value is not valid YAML (" + error.msg + ")");
  }
}

}  // namespace

void apply_override(YAML::Node& root, const std::string& assignment) {
  const size_t equals = assignment.find('=');
  if (equals == std::string::npos)
    throw ConfigError("--set " + assignment + ": expected key.path=value (no '=')");
  const std::vector<std::string> parts = split_path(std::string_view(assignment).substr(0, equals));
  for (const std::string& part : parts)
    if (part.empty())
      throw ConfigError("--set " + assignment + ": the key path has an empty name (e.g. 'optimizer.momentum=0.9')");
  const YAML::Node value = parse_value(assignment.substr(equals + 1), assignment);

  if (!root.IsDefined() || root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
  if (!root.IsMap()) throw ConfigError("--set " + assignment + ": the config is not a mapping");
  YAML::Node current = root;
  std::string walked;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    walked += (i == 0 ? "" : ".") + parts[i];
    YAML::Node child = current[parts[i]];
    if (!child.IsDefined() || child.IsNull()) child = YAML::Node(YAML::NodeType::Map);
    if (!child.IsMap())
      throw ConfigError("--set " + assignment + ": " + walked + " holds a value, not a section of keys");
    // reset() moves the handle; assignment would overwrite the node it refers to.
    current.reset(child);
  }
  current[parts.back()] = value;
}

}  // namespace kubetrain
