// kubetrain-worker: one MPI rank of a data-parallel ResNet training run.
// Exit codes (the operator relies on them): 0 success, 2 invalid config, 3 data set missing or
// corrupt, anything else a failure worth a retry.

#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "common/logging.h"
#include "common/status_server.h"
#include "worker/backend/backend.h"
#include "worker/config/config.h"
#include "worker/data/dataset.h"
#include "worker/dist/communicator.h"
#include "worker/dist/shard_plan.h"
#include "worker/train/safetensors.h"
#include "worker/train/trainer.h"

namespace kubetrain {
namespace {

constexpr int kExitInvalidConfig = 2;
constexpr int kExitDataError = 3;
constexpr int kExitFailure = 1;

struct CommandLine {
  std::string config_path;
  std::vector<std::string> overrides;
  bool validate = false;
  bool benchmark = false;
  std::string log_level = "info";
  std::string log_format = "text";
};

DeviceKind choose_device(const WorkerConfig& config) {
  switch (config.device) {
    case DeviceChoice::kCpu: return DeviceKind::kCpu;
    case DeviceChoice::kCuda: return DeviceKind::kCuda;
    case DeviceChoice::kAuto: break;
  }
  if (cuda_available()) return DeviceKind::kCuda;
  if (config.precision != DataType::kFloat32) {
    throw ConfigError("precision " + std::string(to_string(config.precision)) +
                      " needs a GPU and none was found (device: auto); use precision: fp32 "
                      "to train on the CPU");
  }
  return DeviceKind::kCpu;
}

void serve_status(StatusServer& server, TrainingProgress& progress, int port) {
  server.handle("/progress", [&progress] {
    return StatusServer::Response{"application/json", progress.to_json()};
  });
  server.handle("/metrics", [&progress] {
    return StatusServer::Response{"text/plain; version=0.0.4", progress.to_prometheus()};
  });
  server.handle("/healthz", [] { return StatusServer::Response{"text/plain", "ok\n"}; });
  try {
    server.start("0.0.0.0", port);
    spdlog::info("status on http://0.0.0.0:{} (/progress, /metrics)", server.port());
  } catch (const std::exception& error) {
    spdlog::warn("no status endpoint: {}", error.what());
  }
}

// Everything that can fail identically on every rank (config, world size) is checked before the
// first collective, so each rank can exit cleanly with the same code and message.
int run(const CommandLine& command_line, Communicator& communicator) {
  WorkerConfig config;
  try {
    config = load_config(command_line.config_path, command_line.overrides);
    if (const auto error = batch_divisibility_error(config.global_batch_size, communicator.size());
        !error.empty()) {
      throw ConfigError(error);
    }
    if (command_line.validate) {
      if (communicator.rank() == 0) {
        std::printf("# %s: valid for %d rank(s); the effective config:\n%s\n",
                    command_line.config_path.c_str(), communicator.size(),
                    to_yaml(config).c_str());
      }
      return 0;
    }
  } catch (const ConfigError& error) {
    spdlog::error("invalid config: {}", error.what());
    return kExitInvalidConfig;
  }

  // From here on a rank may fail alone while the others wait in a collective: end them all.
  const auto fail = [&communicator](int code) -> int {
    if (communicator.size() > 1) communicator.abort(code);
    return code;
  };
  try {
    const DeviceKind device = choose_device(config);
    auto backend = make_backend(device, communicator.local_rank());
    DatasetPair datasets;
    if (config.data.dataset != "synthetic") datasets = open_datasets(config.data);

    TrainingProgress progress;
    StatusServer status_server;
    if (communicator.rank() == 0 && config.status_port > 0 && !command_line.benchmark) {
      serve_status(status_server, progress, config.status_port);
    }
    Trainer trainer(config, communicator, *backend, std::move(datasets), progress,
                    command_line.benchmark);
    const auto summary = trainer.run();
    if (communicator.rank() == 0) {
      if (summary.top1 >= 0) {
        spdlog::info("finished: top-1 accuracy {:.2f}% after {} epochs ({:.0f} s, {:.0f} img/s)",
                     summary.top1 * 100, summary.epochs, summary.wall_seconds,
                     summary.images_per_second);
      }
      std::printf("%s\n", to_json_line(summary, config, communicator.size(),
                                       backend->description())
                              .c_str());
      std::fflush(stdout);
    }
    return 0;
  } catch (const ConfigError& error) {
    spdlog::error("invalid config: {}", error.what());
    return fail(kExitInvalidConfig);
  } catch (const DataError& error) {
    spdlog::error("data error: {}", error.what());
    return fail(kExitDataError);
  } catch (const CheckpointError& error) {
    spdlog::error("checkpoint error: {}", error.what());
    return fail(kExitInvalidConfig);
  } catch (const std::exception& error) {
    spdlog::error("training failed: {}", error.what());
    return fail(kExitFailure);
  }
}

}  // namespace
}  // namespace kubetrain

int main(int argc, char** argv) {
  using namespace kubetrain;
  std::unique_ptr<Communicator> communicator;
  try {
    communicator = make_world_communicator(&argc, &argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "kubetrain-worker: cannot start MPI: %s\n", error.what());
    return kExitFailure;
  }

  CommandLine command_line;
  CLI::App app{"kubetrain-worker: trains a ResNet data-parallel across the ranks of mpirun"};
  app.add_option("--config", command_line.config_path, "worker config (YAML)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--set", command_line.overrides,
                 "override a config key, e.g. --set optimizer.learningRate=0.2 (repeatable)");
  app.add_flag("--validate", command_line.validate,
               "check the config (and the batch against the world size), then exit");
  app.add_flag("--benchmark", command_line.benchmark,
               "time benchmark.warmupSteps + benchmark.steps training steps; no evaluation or "
               "checkpoints");
  app.add_option("--log-level", command_line.log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app.add_option("--log-format", command_line.log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : kExitInvalidConfig;
  }

  setup_logging("rank " + std::to_string(communicator->rank()) + "/" +
                    std::to_string(communicator->size()),
                parse_log_format(command_line.log_format), command_line.log_level);
  return run(command_line, *communicator);
}
