#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain {

// GET `url` (http://IP:PORT/progress) and parse the JSON object; nullopt when the worker does not
// answer within `timeout`, answers non-200, or sends something other than a JSON object.
std::optional<nlohmann::json> fetch_progress(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace kubetrain
