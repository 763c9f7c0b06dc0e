#include "worker/data/batch_loader.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "worker/data/example_transform.h"

namespace kubetrain {
namespace {

using Clock = PrefetchSlack::Clock;

// A batch being filled: its chunks are filled by different threads; the last one publishes it.
struct BatchSlot {
  HostBatch batch;
  std::vector<int64_t> indices;
  int chunks_left = 0;
  Clock::time_point not_before;  // slack: no chunk is filled earlier
  Clock::time_point ready_at;    // when its last chunk was filled
};

}  // namespace

struct BatchLoader::Impl {
  Impl(const Dataset& dataset, BatchLayout layout, const Normalization& normalization, bool augment,
       int threads, int prefetch, uint64_t seed)
      : dataset(dataset),
        layout(layout),
        transform(dataset.image_shape(), layout, normalization),
        augment(augment),
        prefetch(prefetch),
        seed(seed),
        chunks(static_cast<int>(std::min<int64_t>(threads, layout.shape.n))) {}

  void run();
  HostBatch take_buffers();
  void fill(BatchSlot& slot, size_t step, uint64_t pass, int chunk, std::vector<uint8_t>& pixels,
            std::vector<uint8_t>& scratch) const;

  const Dataset& dataset;
  const BatchLayout layout;
  const ExampleTransform transform;
  const bool augment;
  const size_t prefetch;
  const uint64_t seed;
  const int chunks;  // work units per batch: one per thread, so one batch uses every thread

  std::mutex mutex;
  std::condition_variable work_ready;   // workers wait for claimable chunks
  std::condition_variable batch_ready;  // next() waits for the next batch
  std::vector<std::vector<int64_t>> steps;
  uint64_t pass_key = 0;
  uint64_t generation = 0;  // bumped by start(): chunks of an abandoned pass are dropped
  size_t next_unit = 0;     // next (step, chunk) to claim, as step * chunks + chunk
  size_t delivered = 0;     // batches handed out by next()
  std::map<size_t, std::shared_ptr<BatchSlot>> slots;  // claimed, not yet delivered
  std::exception_ptr error;
  std::vector<HostBatch> spare;  // buffers handed back by recycle()
  bool slack_on = false;
  PrefetchSlack slack;
  bool stopping = false;
  std::vector<std::thread> threads;
};

void BatchLoader::Impl::fill(BatchSlot& slot, size_t step, uint64_t pass, int chunk,
                             std::vector<uint8_t>& pixels, std::vector<uint8_t>& scratch) const {
  const int64_t n = layout.shape.n;
  const int64_t per_chunk = (n + chunks - 1) / chunks;
  const int64_t begin = chunk * per_chunk;
  const int64_t end =
      std::min<int64_t>(begin + per_chunk, static_cast<int64_t>(slot.indices.size()));
  const bool dataset_crops = augment && dataset.crops_for_training();
  for (int64_t i = begin; i < end; ++i) {
    ExampleRandom random(seed, pass, step, static_cast<uint64_t>(i));
    const int64_t index = slot.indices[static_cast<size_t>(i)];
    Jitter jitter;
    if (dataset_crops) {
      slot.batch.labels[i] = dataset.read_training_crop(index, pixels, random);
    } else {
      slot.batch.labels[i] = dataset.read(index, pixels);
    }
    if (augment) {
      if (!dataset_crops) {
        jitter.dy = static_cast<int>(random.below(2 * Jitter::kPad + 1));
        jitter.dx = static_cast<int>(random.below(2 * Jitter::kPad + 1));
      }
      jitter.flip = random.coin();
    }
    transform.apply(pixels, jitter, i, slot.batch.images.data(), scratch);
  }
}

// A recycled batch's buffers when there is one (already sized and paged in), else fresh ones.
HostBatch BatchLoader::Impl::take_buffers() {
  HostBatch batch;
  if (!spare.empty()) {
    batch = std::move(spare.back());
    spare.pop_back();
  }
  batch.images.resize(static_cast<size_t>(layout.shape.elements()));
  batch.labels.resize(static_cast<size_t>(layout.shape.n));
  return batch;
}

void BatchLoader::Impl::run() {
  std::vector<uint8_t> pixels(static_cast<size_t>(dataset.image_shape().bytes()));
  std::vector<uint8_t> scratch;
  std::unique_lock lock(mutex);
  while (true) {
    work_ready.wait(lock, [&] {
      return stopping || (!error && next_unit < steps.size() * chunks &&
                          next_unit / chunks < delivered + prefetch);
    });
    if (stopping) return;
    const size_t step = next_unit / chunks;
    const int chunk = static_cast<int>(next_unit % chunks);
    ++next_unit;
    std::shared_ptr<BatchSlot>& entry = slots[step];
    if (!entry) {
      entry = std::make_shared<BatchSlot>();
      entry->indices = steps[step];
      entry->chunks_left = chunks;
      entry->batch = take_buffers();
      entry->batch.valid = static_cast<int64_t>(entry->indices.size());
      if (slack_on) entry->not_before = Clock::now() + slack.delay();
      // Real examples overwrite every value of their slots; padding slots must read as zeros.
      const int64_t per_example = layout.shape.elements() / layout.shape.n;
      std::fill(entry->batch.images.begin() + entry->batch.valid * per_example,
                entry->batch.images.end(), 0.0f);
      std::fill(entry->batch.labels.begin(), entry->batch.labels.end(), 0);
    }
    const std::shared_ptr<BatchSlot> slot = entry;  // kept alive even if start() drops the pass
    const uint64_t claimed_generation = generation;
    const uint64_t pass = pass_key;
    // Holding back releases the lock; a new pass or the loader's end cuts it short.
    work_ready.wait_until(lock, slot->not_before,
                          [&] { return stopping || generation != claimed_generation; });
    if (stopping) return;
    if (claimed_generation != generation) continue;
    lock.unlock();
    std::exception_ptr failure;
    try {
      fill(*slot, step, pass, chunk, pixels, scratch);
    } catch (...) {
      failure = std::current_exception();
    }
    lock.lock();
    if (claimed_generation != generation) continue;
    if (failure && !error) error = failure;
    if (--slot->chunks_left == 0) slot->ready_at = Clock::now();
    if (slot->chunks_left == 0 || error) batch_ready.notify_all();
  }
}

BatchLoader::BatchLoader(const Dataset& dataset, BatchLayout layout, Normalization normalization,
                         bool augment, int threads, int prefetch, uint64_t seed) {
  if (threads < 1 || prefetch < 1 || layout.shape.n < 1) {
    throw std::invalid_argument("BatchLoader: threads, prefetch and the batch size must be >= 1");
  }
  impl_ = std::make_unique<Impl>(dataset, layout, normalization, augment, threads, prefetch, seed);
  for (int t = 0; t < threads; ++t)
    impl_->threads.emplace_back([impl = impl_.get()] { impl->run(); });
}

BatchLoader::~BatchLoader() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->work_ready.notify_all();
  for (std::thread& thread : impl_->threads) thread.join();
}

void BatchLoader::start(std::vector<std::vector<int64_t>> steps, uint64_t pass_key) {
  const int64_t size = impl_->dataset.size();
  for (const std::vector<int64_t>& indices : steps) {
    if (static_cast<int64_t>(indices.size()) > impl_->layout.shape.n) {
      throw std::invalid_argument("BatchLoader::start: a step lists more indices than the batch");
    }
    for (int64_t index : indices) {
      if (index < 0 || index >= size) {
        throw std::out_of_range("BatchLoader::start: index " + std::to_string(index) +
                                " is outside the data set's " + std::to_string(size) + " examples");
      }
    }
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->steps = std::move(steps);
    impl_->pass_key = pass_key;
    ++impl_->generation;
    impl_->next_unit = 0;
    impl_->delivered = 0;
    impl_->slots.clear();
    impl_->error = nullptr;
    impl_->slack.reset();
  }
  impl_->work_ready.notify_all();
}

void BatchLoader::recycle(HostBatch batch) {
  std::lock_guard lock(impl_->mutex);
  if (impl_->spare.size() < impl_->prefetch &&
      batch.images.size() == static_cast<size_t>(impl_->layout.shape.elements())) {
    impl_->spare.push_back(std::move(batch));
  }
}

std::optional<HostBatch> BatchLoader::next() {
  Impl& impl = *impl_;
  std::unique_lock lock(impl.mutex);
  impl.batch_ready.wait(lock, [&] {
    if (impl.error || impl.delivered >= impl.steps.size()) return true;
    const auto found = impl.slots.find(impl.delivered);
    return found != impl.slots.end() && found->second->chunks_left == 0;
  });
  if (impl.error) {
    // The pass is over: drop what is left of it, so later calls return nullopt.
    std::exception_ptr error = impl.error;
    impl.error = nullptr;
    impl.steps.clear();
    impl.slots.clear();
    impl.next_unit = impl.delivered = 0;
    ++impl.generation;
    std::rethrow_exception(error);
  }
  if (impl.delivered >= impl.steps.size()) return std::nullopt;
  const auto found = impl.slots.find(impl.delivered);
  if (impl.slack_on) impl.slack.consumed(found->second->ready_at, Clock::now());
  HostBatch batch = std::move(found->second->batch);
  impl.slots.erase(found);
  ++impl.delivered;
  lock.unlock();
  impl.work_ready.notify_all();
  return batch;
}

void BatchLoader::use_slack(bool on) {
  std::lock_guard lock(impl_->mutex);
  impl_->slack_on = on;
  impl_->slack.reset();
}

PrefetchSlack::Duration BatchLoader::slack_delay() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->slack_on ? impl_->slack.delay() : PrefetchSlack::Duration(0);
}

}  // namespace kubetrain
