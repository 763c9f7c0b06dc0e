#include "worker/dist/gradient_reducer.h"

#include <algorithm>
#include <stdexcept>

namespace kubetrain {

GradientReducer::GradientReducer(float* gradients, int64_t count, int64_t bucket_elements)
    : gradients_(gradients) {
  if (bucket_elements <= 0) throw std::invalid_argument("bucket size must be positive");
  for (int64_t end = count; end > 0; end -= bucket_elements) {
    const int64_t begin = std::max<int64_t>(0, end - bucket_elements);
    buckets_.push_back({begin, end, end - begin});
  }
}

void GradientReducer::mark_ready(int64_t offset, int64_t count) {
  const int64_t end = offset + count;
  // Buckets run from the end of the buffer; a range may span several of them.
  for (auto& bucket : buckets_) {
    const int64_t overlap = std::min(end, bucket.end) - std::max(offset, bucket.begin);
    if (overlap <= 0) continue;
    bucket.pending -= overlap;
    if (bucket.pending < 0) {
      throw std::logic_error("gradients reported ready twice in one step");
    }
  }
  launch_ready_buckets();
}

void GradientReducer::launch_ready_buckets() {
  while (next_bucket_ < buckets_.size() && buckets_[next_bucket_].pending == 0) {
    const auto& bucket = buckets_[next_bucket_++];
    launch(gradients_ + bucket.begin, bucket.end - bucket.begin);
  }
}

void GradientReducer::finish() {
  // Buckets whose gradients were never reported (parameters unused this step) still take part,
  // so that every rank enters the same collectives.
  for (size_t i = next_bucket_; i < buckets_.size(); ++i) buckets_[i].pending = 0;
  launch_ready_buckets();
  wait_all();
  abandon_step();
}

void GradientReducer::abandon_step() {
  for (auto& bucket : buckets_) bucket.pending = bucket.end - bucket.begin;
  next_bucket_ = 0;
}

}  // namespace kubetrain
