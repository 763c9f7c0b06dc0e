#pragma once

#include <cstdint>
#include <mutex>
#include <string>

namespace kubetrain {

// What rank 0 reports while it trains: the body of /progress (read by the operator into
// TrainingJob.status.progress) and of /metrics.
struct ProgressSnapshot {
  std::string state = "initializing";  // initializing | training | evaluating | succeeded | failed
  int64_t epoch = 0;                   // 1-based epoch being trained (0 before the first)
  int64_t step = 0;                    // global steps done
  int64_t total_steps = 0;
  double loss = 0;
  double top1 = -1;                    // last evaluation's accuracy in [0, 1]; -1 before one
  double images_per_second = 0;        // global, over the last log window
  double learning_rate = 0;
  double loss_scale = 1;
  int64_t skipped_steps = 0;           // dynamic loss scaling
  int64_t world_size = 1;
};

// Thread-safe holder: the training loop writes, the HTTP thread reads.
class TrainingProgress {
 public:
  void update(const ProgressSnapshot& snapshot);
  ProgressSnapshot snapshot() const;
  void set_state(const std::string& state);

  std::string to_json() const;
  std::string to_prometheus() const;

 private:
  mutable std::mutex mutex_;
  ProgressSnapshot snapshot_;
};

}  // namespace kubetrain
