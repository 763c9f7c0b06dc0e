#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kubetrain {

// Averages the flat gradient buffer across ranks while the backward pass is still running, as
// Horovod's tensor fusion and PyTorch DDP's buckets do. The buffer is cut into buckets of about
// `bucket_elements`, from its end (where backward starts) towards its start; a bucket is launched
// as soon as every gradient in it has been reported ready. Every rank reports the same ranges in
// the same order, so buckets are launched in the same order everywhere.
class GradientReducer {
 public:
  GradientReducer(float* gradients, int64_t count, int64_t bucket_elements);
  virtual ~GradientReducer() = default;

  // Gradients [offset, offset + count) are final for this step.
  void mark_ready(int64_t offset, int64_t count);
  // Launches what is left, waits; then the buffer holds the mean over ranks.
  void finish();
  // Forgets what was reported this step without reducing anything more: the step's work was
  // being recorded for later replay and the recording failed part-way, so it never ran.
  void abandon_step();

  int64_t bucket_count() const { return static_cast<int64_t>(buckets_.size()); }

  // An error the communication library reported on its own, between calls (NCCL's asynchronous
  // errors: a peer's connection closed), or "" while healthy. Safe to call from another thread.
  virtual std::string health() const { return {}; }

 protected:
  // Starts averaging data[0, count) across ranks, asynchronously.
  virtual void launch(float* data, int64_t count) = 0;
  // Waits for everything launched.
  virtual void wait_all() = 0;

 private:
  struct Bucket {
    int64_t begin;
    int64_t end;
    int64_t pending;  // elements not yet reported this step
  };
  void launch_ready_buckets();

  float* gradients_;
  std::vector<Bucket> buckets_;   // buckets_[0] is at the end of the buffer
  size_t next_bucket_ = 0;        // launch strictly in order, identical on every rank
};

}  // namespace kubetrain
