#pragma once

// cuDNN reports an unsupported configuration only when a call runs, not when sizes are queried,
// so operators with several ways of running try them in order on scratch tensors when created.

#include <stdexcept>
#include <string>
#include <vector>

namespace kubetrain::cuda {

// Calls attempt(variant) for each variant in order and returns the first that does not throw
// std::runtime_error; when none runs, throws one error naming `what` and every failure.
template <typename Variant, typename Attempt, typename Describe>
Variant first_that_runs(const std::vector<Variant>& variants, Attempt attempt, Describe describe,
                        const std::string& what) {
  std::string failures;
  for (const Variant& variant : variants) {
    try {
      attempt(variant);
      return variant;
    } catch (const std::runtime_error& error) {
      failures += "\n  " + describe(variant) + ": " + error.what();
    }
  }
  throw std::runtime_error(what + ": cuDNN runs none of the variants:" + failures);
}

}  // namespace kubetrain::cuda
