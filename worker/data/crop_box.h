#pragma once

#include "worker/data/example_random.h"

namespace kubetrain {

// A rectangle of an image in (fractional) source pixels.
struct CropBox {
  double x = 0;
  double y = 0;
  double width = 0;
  double height = 0;
};

// The centred square whose side is `fraction` of the shorter side: evaluation's "resize the
// shorter side to S, then centre-crop fraction*S".
CropBox central_square(int width, int height, double fraction);

// Inception/torchvision RandomResizedCrop: area 8%..100% of the image, aspect ratio 3/4..4/3
// (log-uniform), placed uniformly; after 10 misses, the whole image clamped to that ratio range.
CropBox random_resized_crop(int width, int height, ExampleRandom& random);

}  // namespace kubetrain
