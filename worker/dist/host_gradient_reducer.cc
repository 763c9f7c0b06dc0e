#include "worker/dist/host_gradient_reducer.h"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <span>
#include <thread>
#include <utility>

namespace kubetrain {
namespace {

class HostGradientReducer final : public GradientReducer {
 public:
  HostGradientReducer(Communicator& communicator, float* gradients, int64_t count,
                      int64_t bucket_elements, HostWaits& waits)
      : GradientReducer(gradients, count, bucket_elements),
        communicator_(communicator),
        waits_(waits) {
    if (communicator_.size() > 1) thread_ = std::thread([this] { run(); });
  }

  ~HostGradientReducer() override {
    if (!thread_.joinable()) return;
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_one();
    thread_.join();
  }

 protected:
  void launch(float* data, int64_t count) override {
    if (communicator_.size() == 1) return;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(std::span<float>(data, static_cast<size_t>(count)));
    }
    work_ready_.notify_one();
  }

  void wait_all() override {
    if (communicator_.size() == 1) return;
    const auto waiting = waits_.enter("the MPI gradient allreduce");
    std::unique_lock lock(mutex_);
    all_done_.wait(lock, [this] { return queue_.empty() && !busy_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void run() {
    const float inverse_world = 1.0f / static_cast<float>(communicator_.size());
    std::unique_lock lock(mutex_);
    while (true) {
      work_ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      const auto bucket = queue_.front();
      queue_.pop_front();
      busy_ = true;
      lock.unlock();
      try {
        communicator_.allreduce_sum(bucket);
        for (float& value : bucket) value *= inverse_world;
      } catch (...) {
        lock.lock();
        error_ = std::current_exception();
        lock.unlock();
      }
      lock.lock();
      busy_ = false;
      if (queue_.empty()) all_done_.notify_all();
    }
  }

  Communicator& communicator_;
  HostWaits& waits_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable work_ready_;
  std::condition_variable all_done_;
  std::deque<std::span<float>> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::exception_ptr error_;
};

}  // namespace

std::unique_ptr<GradientReducer> make_host_gradient_reducer(Communicator& communicator,
                                                            float* gradients, int64_t count,
                                                            int64_t bucket_elements,
                                                            HostWaits& waits) {
  return std::make_unique<HostGradientReducer>(communicator, gradients, count, bucket_elements,
                                               waits);
}

}  // namespace kubetrain
