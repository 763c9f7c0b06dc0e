#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace kubetrain::fakeapi {

// Lenient reads of request bodies, which may lack any field or hold the wrong type in it.

// object[key], or an empty object where `object` has no such member.
inline nlohmann::json member(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) ? object[key] : nlohmann::json::object();
}

// object[key] if it is a string, else "".
inline std::string string_at(const nlohmann::json& object, const char* key) {
  return object.is_object() && object.contains(key) && object[key].is_string()
             ? object[key].get<std::string>()
             : "";
}

// object[key] if it is a number.
inline std::optional<std::int64_t> integer_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<std::int64_t>();
}

}  // namespace kubetrain::fakeapi
