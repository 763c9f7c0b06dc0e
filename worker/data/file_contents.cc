#include "worker/data/file_contents.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "worker/data/dataset.h"

namespace kubetrain {

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) throw DataError(path + ": cannot open (" + std::strerror(errno) + ")");
  const std::streamsize size = file.tellg();
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char*>(bytes.data()), size)) {
    throw DataError(path + ": read failed after " + std::to_string(file.gcount()) + " of " +
                    std::to_string(size) + " bytes");
  }
  return bytes;
}

std::vector<uint8_t> gunzip(std::span<const uint8_t> compressed, const std::string& path) {
  if (compressed.size() < 18 || compressed[0] != 0x1f || compressed[1] != 0x8b) {
    throw DataError(path + ": not a gzip file (expected the gzip magic 1f 8b and at least 18 bytes)");
  }
  // The trailer's ISIZE is the uncompressed size modulo 2^32: a good first guess for the buffer,
  // capped because a truncated file's last bytes are not a trailer at all.
  const size_t tail = compressed.size() - 4;
  const uint32_t size_hint = uint32_t{compressed[tail]} | uint32_t{compressed[tail + 1]} << 8 |
                             uint32_t{compressed[tail + 2]} << 16 | uint32_t{compressed[tail + 3]} << 24;
  std::vector<uint8_t> out(
      std::clamp<size_t>(size_hint, 1024, 16 * compressed.size()));

  z_stream stream{};
  // 16 + MAX_WBITS: gzip wrapper only; inflate then checks the trailer's CRC-32 and length.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK) throw DataError(path + ": zlib init failed");
  stream.next_in = const_cast<Bytef*>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  int status = Z_OK;
  while (status == Z_OK) {
    if (stream.total_out == out.size()) out.resize(out.size() * 2);
    stream.next_out = out.data() + stream.total_out;
    stream.avail_out = static_cast<uInt>(out.size() - stream.total_out);
    status = inflate(&stream, Z_NO_FLUSH);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;  // input ended before the stream
    if (status == Z_BUF_ERROR) status = Z_OK;                   // output full: grow and go on
  }
  const std::string message = stream.msg ? stream.msg : "";
  const uLong total = stream.total_out;
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    if (status == Z_DATA_ERROR) {
      throw DataError(path + ": corrupt gzip data (" + message + ")");
    }
    throw DataError(path + ": truncated gzip stream (ends after " + std::to_string(total) +
                    " decompressed bytes without the gzip trailer)");
  }
  out.resize(total);
  return out;
}

}  // namespace kubetrain
