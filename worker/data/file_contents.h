#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace kubetrain {

// The whole file; a missing or unreadable file is a DataError naming it.
std::vector<uint8_t> read_file_bytes(const std::string& path);

// Decompresses a complete gzip stream read from `path`; a truncated stream or a failed CRC is a
// DataError naming the file.
std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, const std::string& path);

}  // namespace kubetrain
