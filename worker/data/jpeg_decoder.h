#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "worker/data/crop_box.h"

namespace kubetrain {

// Picks the region to keep once the JPEG's full-resolution width and height are known.
using CropChooser = std::function<CropBox(int width, int height)>;

// Decodes the JPEG `bytes` (read from `path`, which errors name), cuts out the region `choose`
// picks and scales it to out_width x out_height interleaved RGB in `out`. Decodes at 1/2, 1/4 or
// 1/8 scale when the region stays at least the output size, and only the rows the region needs
// are colour-converted. Grey images are widened to RGB, CMYK/YCCK converted. A malformed or
// truncated file is a DataError naming it.
void decode_jpeg_crop(std::span<const uint8_t> bytes, const std::string& path,
                      const CropChooser& choose, int out_width, int out_height,
                      std::span<uint8_t> out);

}  // namespace kubetrain
