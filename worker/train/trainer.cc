#include "worker/train/trainer.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "worker/config/model_names.h"
#include "worker/train/parameter_broadcast.h"

namespace kubetrain {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A progress bar only for a person watching a terminal: under mpirun every rank's stdout is a
// pseudo-terminal even when the output goes to a file or a pod log, so a terminal type must be
// set as well (Kubernetes and batch launchers set none).
bool interactive_terminal() {
  const char* terminal = std::getenv("TERM");
  return isatty(STDOUT_FILENO) != 0 && terminal != nullptr && *terminal != '\0' &&
         std::string_view(terminal) != "dumb";
}

int synthetic_classes(const WorkerConfig& config) {
  if (config.data.classes > 0) return config.data.classes;
  return is_imagenet_style(config.model) ? 1000 : 10;
}

// CRC-32 of rank 0's weights after checking that every rank holds exactly the same bytes: data
// parallelism that silently diverged (a missed allreduce, a rank that skipped an update) would
// otherwise go unnoticed until accuracy suffers.
uint32_t verified_weights_checksum(Communicator& communicator, Backend& backend,
                                   ParameterStore& store) {
  std::vector<float> weights(static_cast<size_t>(store.parameter_count()));
  backend.download(store.weights(), weights.data(), weights.size() * sizeof(float));
  const auto checksum = static_cast<int64_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(weights.data()),
            static_cast<uInt>(weights.size() * sizeof(float))));
  std::vector<int64_t> extremes{checksum, -checksum};
  {
    const auto waiting = backend.host_waits().enter("the MPI comparison of weight checksums");
    communicator.allreduce_max(extremes);
  }
  if (extremes[0] != -extremes[1]) {
    throw std::runtime_error("the ranks' weights diverged: weight checksums differ across ranks");
  }
  return static_cast<uint32_t>(checksum);
}

}  // namespace

std::string to_json_line(const TrainingSummary& summary, const WorkerConfig& config,
                         int world_size, const std::string& device) {
  nlohmann::json line = {{"event", "summary"},
                         {"model", config.model},
                         {"dataset", config.data.dataset},
                         {"worldSize", world_size},
                         {"device", device},
                         {"precision", std::string(to_string(config.precision))},
                         {"dataFormat", std::string(to_string(config.data_format))},
                         {"globalBatchSize", config.global_batch_size},
                         {"epochs", summary.epochs},
                         {"steps", summary.steps},
                         {"imagesPerSecond", summary.images_per_second},
                         {"wallSeconds", summary.wall_seconds},
                         {"finalLoss", summary.final_loss},
                         {"lossScale", summary.loss_scale},
                         {"skippedSteps", summary.skipped_steps},
                         {"graphSteps", summary.graph_steps},
                         {"weightsChecksum", summary.weights_checksum}};
  line["top1"] = summary.top1 < 0 ? nlohmann::json(nullptr) : nlohmann::json(summary.top1);
  return line.dump();
}

Trainer::Trainer(const WorkerConfig& config, Communicator& communicator, Backend& backend,
                 DatasetPair datasets, TrainingProgress& progress, bool benchmark)
    : config_(config),
      communicator_(communicator),
      backend_(backend),
      datasets_(std::move(datasets)),
      progress_(progress),
      benchmark_(benchmark),
      rank0_(communicator.rank() == 0),
      progress_bar_(rank0_ && interactive_terminal()),
      scaler_(config.precision == DataType::kFloat16 ? config.loss_scale : std::nullopt) {
  const bool synthetic = datasets_.train == nullptr;
  const int64_t world = communicator.size();
  const int64_t local_batch = config.global_batch_size / world;
  const int channels = synthetic ? 3 : datasets_.train->image_shape().channels;
  classes_ = synthetic ? synthetic_classes(config) : datasets_.train->classes();

  ModelSpec spec;
  spec.name = config.model;
  spec.input = {local_batch, channels, config.data.image_size, config.data.image_size};
  spec.classes = classes_;
  spec.dtype = config.precision;
  spec.format = config.data_format;
  spec.label_smoothing = static_cast<float>(config.label_smoothing);
  model_ = make_model(backend, spec);

  const int64_t examples = synthetic ? config.data.synthetic_examples : datasets_.train->size();
  if (examples < config.global_batch_size) {
    throw ConfigError("globalBatchSize " + std::to_string(config.global_batch_size) +
                      " is larger than the training set (" + std::to_string(examples) +
                      " examples): no full batch can be formed");
  }
  plan_ = std::make_unique<ShardPlan>(examples, config.global_batch_size,
                                      communicator.size(), communicator.rank(), config.seed);
  const int64_t per_epoch = plan_->steps_per_epoch();
  total_steps_ = benchmark ? config.benchmark.warmup_steps + config.benchmark.steps
                 : config.steps > 0 ? config.steps
                                    : config.epochs * per_epoch;
  total_epochs_ = (total_steps_ + per_epoch - 1) / per_epoch;
  schedule_ = std::make_unique<LearningRateSchedule>(config.optimizer, config.schedule,
                                                     config.global_batch_size, per_epoch,
                                                     total_steps_);

  auto& store = model_->parameters();
  reducer_ = backend.make_gradient_reducer(communicator, store.gradients(),
                                           store.parameter_count());
  watchdog_ = make_collective_watchdog(
      communicator.size(), backend.host_waits(),
      std::chrono::seconds(config.collective_timeout_seconds),
      [reducer = reducer_.get()] { return reducer->health(); });
  if (backend.kind() == DeviceKind::kCuda && config.cuda_graphs) {
    step_graph_ = std::make_unique<StepGraph>(
        [&backend](const std::function<void()>& work) { return backend.record(work); },
        [this] { reducer_->abandon_step(); });
  }
  loss_ = backend.allocate(sizeof(float));

  const BatchLayout layout{spec.input, config.data_format};
  if (synthetic) {
    train_batches_ = make_synthetic_batches(backend, config.precision, layout, classes_,
                                            config.seed + static_cast<uint64_t>(communicator.rank()));
  } else {
    const auto normalization = normalization_for(config.data.dataset, channels);
    auto train_loader = std::make_unique<BatchLoader>(
        *datasets_.train, layout, normalization, config.data.augment, config.data.threads,
        config.data.prefetch, config.seed * 1000003 + communicator.rank());
    train_loader->use_slack(config.data.slack);
    train_batches_ =
        make_loaded_batches(backend, config.precision, std::move(train_loader), layout);
    if (!config.eval.skip && !benchmark && datasets_.validation) {
      eval_batches_ = make_loaded_batches(
          backend, config.precision,
          std::make_unique<BatchLoader>(*datasets_.validation, layout, normalization,
                                        /*augment=*/false, config.data.threads,
                                        config.data.prefetch, config.seed),
          layout);
      eval_logits_ = backend.allocate(static_cast<size_t>(local_batch * classes_) * sizeof(float));
    }
  }
  if (!benchmark && !config.checkpoint.dir.empty()) {
    checkpoints_ = std::make_unique<TrainingCheckpoints>(config, *model_);
  }
  if (rank0_) {
    spdlog::info("{} on {} rank(s), {}; model {} ({:.2f}M parameters), {} x {} images, batch {} "
                 "({} per rank), {} steps per epoch, {} dropped per epoch, {} steps in all",
                 backend.description(), world, to_string(config.precision), config.model,
                 static_cast<double>(store.parameter_count()) / 1e6, config.data.image_size,
                 config.data.image_size, config.global_batch_size, local_batch, per_epoch,
                 plan_->dropped_per_epoch(), total_steps_);
  }
}

Trainer::~Trainer() {
  // Shutting down waits for the device's queue and the reducer's last collectives; behind a frozen
  // peer that would hang, so it is timed like every other wait. The health check reads the
  // reducer, so it stops first; once the queues are empty, freeing memory cannot block.
  if (watchdog_) watchdog_->stop_health_checks();
  const auto waiting = backend_.host_waits().enter("the device and the gradient reducer to stop");
  try {
    backend_.synchronize();
  } catch (const std::exception& error) {
    // Already failing (a device error is sticky); what caused it has been or will be reported.
    spdlog::warn("while shutting down: {}", error.what());
  }
  reducer_.reset();
}

TrainingSummary Trainer::run() {
  const auto wall_start = Clock::now();
  auto& store = model_->parameters();
  model_->initialize(config_.seed);
  TrainingPosition position{.loss_scale = scaler_.scale()};
  if (rank0_ && checkpoints_) {
    if (auto restored = checkpoints_->restore()) position = *restored;
  }
  {
    const auto waiting = backend_.host_waits().enter("the MPI broadcast of the starting point");
    communicator_.broadcast(&position, sizeof(position), 0);
    broadcast_parameters(communicator_, backend_, store);
  }
  scaler_.restore(position.loss_scale, position.good_steps);

  progress_.update({.state = "training",
                    .epoch = position.epochs_done + 1,
                    .step = position.step,
                    .total_steps = total_steps_,
                    .loss_scale = scaler_.scale(),
                    .world_size = communicator_.size()});

  TrainingSummary summary;
  int64_t step = position.step;
  int64_t epochs_done = position.epochs_done;
  double timed_seconds = 0;
  int64_t timed_steps = 0;
  bool first_window = true;
  const int64_t per_epoch = plan_->steps_per_epoch();
  const int64_t warmup_steps = benchmark_ ? config_.benchmark.warmup_steps : 0;

  while (step < total_steps_) {
    const int64_t epoch = epochs_done;
    // Synthetic data needs only the number of steps, not a permutation of a million indices.
    train_batches_->start(datasets_.train ? plan_->epoch_batches(epoch)
                                          : std::vector<std::vector<int64_t>>(
                                                static_cast<size_t>(per_epoch)),
                          static_cast<uint64_t>(epoch));
    auto window_start = Clock::now();
    int64_t window_steps = 0;
    int64_t step_in_epoch = 0;
    std::optional<DeviceBatch> batch = train_batches_->next();
    while (batch && step < total_steps_) {
      if (benchmark_ && step == warmup_steps) {
        backend_.synchronize();
        window_start = Clock::now();
        window_steps = 0;
        first_window = false;
      }
      compute_gradients(*batch, scaler_.scale());
      // The next batch is copied and its upload queued while the device still computes this
      // step's gradients, before the host waits for them (the loss-scale check): the host's work
      // on the input overlaps the device's. Its upload is queued after this step's forward and
      // backward, the only work that reads the batch buffers.
      const bool another = step + 1 < total_steps_ && step_in_epoch + 1 < per_epoch;
      batch = another ? train_batches_->next() : std::nullopt;
      apply_gradients(step);
      // The host runs at most one step ahead of the device: enough to keep the device busy, and
      // it then blocks in a wait the watchdog times, not in a launch behind a full queue.
      const uint64_t step_end = backend_.mark();
      if (previous_step_end_) backend_.wait_for(*previous_step_end_);
      previous_step_end_ = step_end;
      ++step;
      ++step_in_epoch;
      ++window_steps;
      if (progress_bar_) draw_progress_bar(epoch + 1, step_in_epoch);
      const bool epoch_end = step_in_epoch == per_epoch;
      if (step % config_.log_every_steps == 0 || step == total_steps_ || epoch_end) {
        const double seconds = seconds_since(window_start);
        log_window(epoch + 1, step, seconds, window_steps);
        // The first window pays for warm-up (allocation, primitive creation, caches): leave it
        // out of the mean.
        if (!first_window || benchmark_) {
          timed_seconds += seconds;
          timed_steps += window_steps;
        }
        first_window = false;
        window_start = Clock::now();
        window_steps = 0;
      }
    }
    if (progress_bar_) std::fputc('\n', stdout);
    const bool full_epoch = step_in_epoch == per_epoch;
    if (!full_epoch) break;
    epochs_done = epoch + 1;
    const bool last = step >= total_steps_;
    if (eval_batches_ && (epochs_done % config_.eval.every_epochs == 0 || last)) {
      last_top1_ = evaluate();
    }
    if (checkpoints_ && (epochs_done % config_.checkpoint.every_epochs == 0 || last) && rank0_) {
      const auto path = checkpoints_->save(
          {epochs_done, step, scaler_.scale(), scaler_.good_steps()});
      spdlog::info("checkpoint {} written", path);
    }
  }
  backend_.synchronize();
  summary.weights_checksum = verified_weights_checksum(communicator_, backend_, store);
  if (timed_steps == 0) {
    // Runs too short for a second window: report what there is rather than nothing.
    timed_seconds = seconds_since(wall_start);
    timed_steps = step - position.step;
  }
  summary.steps = step;
  summary.epochs = epochs_done;
  summary.top1 = last_top1_;
  summary.images_per_second =
      timed_seconds > 0 ? static_cast<double>(timed_steps * config_.global_batch_size) / timed_seconds
                        : 0;
  summary.wall_seconds = seconds_since(wall_start);
  summary.final_loss = last_loss_;
  summary.loss_scale = scaler_.scale();
  summary.skipped_steps = scaler_.skipped_steps();
  summary.graph_steps = step_graph_ ? step_graph_->replays() : 0;
  auto snapshot = progress_.snapshot();
  snapshot.state = "succeeded";
  snapshot.top1 = last_top1_;
  progress_.update(snapshot);
  return summary;
}

void Trainer::compute_gradients(const DeviceBatch& batch, float loss_scale) {
  const auto work = [&] {
    model_->forward(batch.images, /*training=*/true);
    model_->backward(batch.labels, loss_scale, loss_->as<float>(),
                     [this](int64_t offset, int64_t count) { reducer_->mark_ready(offset, count); });
    reducer_->finish();
  };
  if (step_graph_) {
    step_graph_->run({batch.images, batch.labels, loss_scale}, work);
  } else {
    work();
  }
}

void Trainer::apply_gradients(int64_t step) {
  auto& store = model_->parameters();
  // Every rank holds the same averaged gradients, so every rank takes the same decision.
  const bool finite = !scaler_.dynamic() ||
                      backend_.all_finite(store.gradients(), store.parameter_count());
  if (!scaler_.update(finite)) {
    spdlog::debug("step {}: gradients overflowed, step skipped, loss scale now {}", step,
                  scaler_.scale());
    return;
  }
  last_learning_rate_ = schedule_->at(step);
  const SgdHyperparameters hyper{static_cast<float>(last_learning_rate_),
                                 static_cast<float>(config_.optimizer.momentum),
                                 static_cast<float>(config_.optimizer.weight_decay),
                                 config_.optimizer.nesterov, 1.0f / scaler_.scale()};
  backend_.sgd_update(store.segments(), store.weights(), store.gradients(), store.momentum(),
                      hyper);
  store.sync_compute_weights();
}

void Trainer::log_window(int64_t epoch, int64_t step, double seconds, int64_t steps_in_window) {
  float loss = 0;
  backend_.download(loss_->data(), &loss, sizeof(loss));
  std::vector<double> mean_loss{loss};
  {
    const auto waiting = backend_.host_waits().enter("the MPI average of the loss");
    communicator_.allreduce_sum(mean_loss);
  }
  last_loss_ = mean_loss[0] / communicator_.size();
  const double images_per_second =
      seconds > 0 ? static_cast<double>(steps_in_window * config_.global_batch_size) / seconds : 0;
  auto snapshot = progress_.snapshot();
  snapshot.epoch = epoch;
  snapshot.step = step;
  snapshot.loss = last_loss_;
  snapshot.images_per_second = images_per_second;
  snapshot.learning_rate = last_learning_rate_;
  snapshot.loss_scale = scaler_.scale();
  snapshot.skipped_steps = scaler_.skipped_steps();
  snapshot.top1 = last_top1_;
  progress_.update(snapshot);
  if (!rank0_) return;
  // Clear the bar's line so the log line (on stderr) does not land in the middle of it.
  if (progress_bar_) {
    std::fputs("\r\033[K", stdout);
    std::fflush(stdout);
  }
  if (config_.precision == DataType::kFloat16) {
    spdlog::info("epoch {}/{} step {}/{} loss {:.4f} lr {:.5f} {:.0f} img/s loss scale {}", epoch,
                 total_epochs_, step, total_steps_, last_loss_, last_learning_rate_,
                 images_per_second, scaler_.scale());
  } else {
    spdlog::info("epoch {}/{} step {}/{} loss {:.4f} lr {:.5f} {:.0f} img/s", epoch,
                 total_epochs_, step, total_steps_, last_loss_, last_learning_rate_,
                 images_per_second);
  }
}

double Trainer::evaluate() {
  progress_.set_state("evaluating");
  const int64_t local_batch = model_->spec().input.n;
  const int64_t examples = datasets_.validation->size();
  eval_batches_->start(evaluation_batches(examples, local_batch, communicator_.size(),
                                          communicator_.rank()),
                       0);
  std::vector<float> logits(static_cast<size_t>(local_batch * classes_));
  std::vector<int32_t> labels(static_cast<size_t>(local_batch));
  std::vector<int64_t> counts{0, 0};  // correct, seen
  while (const auto batch = eval_batches_->next()) {
    const void* output = model_->forward(batch->images, /*training=*/false);
    backend_.cast(config_.precision, output, DataType::kFloat32, eval_logits_->data(),
                  local_batch * classes_);
    backend_.download(eval_logits_->data(), logits.data(), logits.size() * sizeof(float));
    backend_.download(batch->labels, labels.data(), labels.size() * sizeof(int32_t));
    for (int64_t i = 0; i < batch->valid; ++i) {
      const auto row = logits.begin() + i * classes_;
      const auto predicted = std::max_element(row, row + classes_) - row;
      counts[0] += predicted == labels[static_cast<size_t>(i)] ? 1 : 0;
    }
    counts[1] += batch->valid;
  }
  {
    const auto waiting = backend_.host_waits().enter("the MPI sum of evaluation counts");
    communicator_.allreduce_sum(counts);
  }
  const double top1 = counts[1] > 0 ? static_cast<double>(counts[0]) / counts[1] : 0;
  if (rank0_) {
    spdlog::info("evaluation: top-1 {:.4f} ({} of {} validation images)", top1, counts[0],
                 counts[1]);
  }
  progress_.set_state("training");
  return top1;
}

void Trainer::draw_progress_bar(int64_t epoch, int64_t step_in_epoch) const {
  constexpr int kWidth = 30;
  const int64_t per_epoch = plan_->steps_per_epoch();
  const int filled = static_cast<int>(kWidth * step_in_epoch / std::max<int64_t>(1, per_epoch));
  const auto snapshot = progress_.snapshot();
  std::printf("\repoch %lld/%lld [%-*s] %lld/%lld loss %.4f %.0f img/s ",
              static_cast<long long>(epoch), static_cast<long long>(total_epochs_), kWidth,
              std::string(static_cast<size_t>(filled), '=').c_str(),
              static_cast<long long>(step_in_epoch), static_cast<long long>(per_epoch),
              snapshot.loss, snapshot.images_per_second);
  std::fflush(stdout);
}

}  // namespace kubetrain
