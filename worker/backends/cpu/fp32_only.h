#pragma once

#include <stdexcept>
#include <string>

#include "worker/backend/tensor.h"

namespace kubetrain {

// The CPU backend computes in fp32 only (Backend::supports); `what` names the operator.
inline void require_fp32(DataType type, const std::string& what) {
  if (type != DataType::kFloat32) {
    throw std::invalid_argument(what + ": the CPU backend computes in fp32 only, got " +
                                std::string(to_string(type)) + " (set precision: fp32)");
  }
}

}  // namespace kubetrain
