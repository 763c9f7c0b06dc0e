#include "worker/data/jpeg_decoder.h"

// clang-format off
#include <cstdio>  // jpeglib.h needs FILE and size_t first
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <vector>

#include "worker/data/bilinear_resize.h"
#include "worker/data/dataset.h"

namespace kubetrain {
namespace {

// libjpeg reports errors through callbacks; these jump back to decode_jpeg_crop with the text.
struct ErrorManager {
  jpeg_error_mgr base;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void on_error(j_common_ptr info) {
  auto* manager = reinterpret_cast<ErrorManager*>(info->err);
  info->err->format_message(info, manager->message);
  std::longjmp(manager->jump, 1);
}

// Warnings are tolerated (real data sets hold files with stray bytes that every decoder accepts),
// except data that ends early: the rest of that image would be invented grey.
void on_message(j_common_ptr info, int level) {
  if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) on_error(info);
}

int scale_denominator(const CropBox& box, int out_width, int out_height) {
  for (int denominator : {8, 4, 2}) {
    if (box.width / denominator >= out_width && box.height / denominator >= out_height) {
      return denominator;
    }
  }
  return 1;
}

// Adobe's CMYK JPEGs store inverted ink values; others store plain ones.
void cmyk_to_rgb(const uint8_t* cmyk, uint8_t* rgb, int pixels, bool inverted) {
  for (int i = 0; i < pixels; ++i) {
    const uint8_t* ink = cmyk + 4 * i;
    const int k = inverted ? ink[3] : 255 - ink[3];
    for (int c = 0; c < 3; ++c) {
      const int value = inverted ? ink[c] : 255 - ink[c];
      rgb[3 * i + c] = static_cast<uint8_t>((value * k + 127) / 255);
    }
  }
}

}  // namespace

void decode_jpeg_crop(std::span<const uint8_t> bytes, const std::string& path,
                      const CropChooser& choose, int out_width, int out_height,
                      std::span<uint8_t> out) {
  // Everything with a destructor lives outside the setjmp scope, so a longjmp skips none.
  std::vector<uint8_t> rows;
  std::vector<uint8_t> rgb;
  CropBox box;
  jpeg_decompress_struct info{};
  ErrorManager errors{};
  info.err = jpeg_std_error(&errors.base);
  errors.base.error_exit = on_error;
  errors.base.emit_message = on_message;
  if (setjmp(errors.jump)) {
    jpeg_destroy_decompress(&info);
    throw DataError(path + ": corrupt or unsupported JPEG (" + errors.message + ")");
  }
  jpeg_create_decompress(&info);
  jpeg_mem_src(&info, bytes.data(), static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&info, TRUE);
  const bool cmyk = info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK;
  info.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;  // libjpeg-turbo widens grey to RGB itself
  box = choose(static_cast<int>(info.image_width), static_cast<int>(info.image_height));
  info.scale_num = 1;
  info.scale_denom = static_cast<unsigned>(scale_denominator(box, out_width, out_height));
  jpeg_start_decompress(&info);

  const int width = static_cast<int>(info.output_width);
  const int height = static_cast<int>(info.output_height);
  const double scale = double{1} * width / info.image_width;
  box = {box.x * scale, box.y * scale, box.width * scale, box.height * scale};
  // The rows bilinear sampling touches, with one row of margin each side.
  const int first_row = std::clamp(static_cast<int>(std::floor(box.y)) - 1, 0, height - 1);
  const int end_row =
      std::clamp(static_cast<int>(std::ceil(box.y + box.height)) + 1, first_row + 1, height);
  const int components = static_cast<int>(info.output_components);
  const size_t stride = static_cast<size_t>(width) * components;
  rows.resize(stride * (end_row - first_row));

  if (first_row > 0) jpeg_skip_scanlines(&info, static_cast<JDIMENSION>(first_row));
  while (static_cast<int>(info.output_scanline) < end_row) {
    JSAMPROW row = rows.data() + (info.output_scanline - first_row) * stride;
    jpeg_read_scanlines(&info, &row, 1);
  }
  // Skipping still entropy-decodes the rest, so a truncated file fails whatever the crop.
  if (end_row < height) jpeg_skip_scanlines(&info, static_cast<JDIMENSION>(height - end_row));
  const bool adobe_inverted = info.saw_Adobe_marker;
  jpeg_finish_decompress(&info);
  jpeg_destroy_decompress(&info);

  if (cmyk) {
    rgb.resize(static_cast<size_t>(width) * 3 * (end_row - first_row));
    cmyk_to_rgb(rows.data(), rgb.data(), width * (end_row - first_row), adobe_inverted);
    rows.swap(rgb);
  }
  box.y -= first_row;
  resize_bilinear({rows.data(), width, end_row - first_row, 3}, box, out.data(), out_width,
                  out_height);
}

}  // namespace kubetrain
