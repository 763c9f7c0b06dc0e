#include "worker/backends/cuda/cuda_check.h"

#include <stdexcept>
#include <string>

namespace kubetrain::cuda {

void throw_error(const char* library, const char* call, const char* file, int line,
                 const char* message) {
  throw std::runtime_error(std::string(library) + " error: " + message + " in " + call + " at " +
                           file + ":" + std::to_string(line));
}

}  // namespace kubetrain::cuda
