// Run under mpirun with two ranks: rank 1 never joins the gradient allreduce. Rank 0's watchdog,
// watching the waits the reducer marks, must end it within a few seconds of its 1 s collective
// timeout, with a message that says why; mpirun then ends rank 1 too. Without the watchdog both
// ranks would sit there (rank 1 for a minute, rank 0 for ever) and the test would time out.
#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>
#include <vector>

#include "worker/dist/collective_watchdog.h"
#include "worker/dist/communicator.h"
#include "worker/dist/host_gradient_reducer.h"

int main(int argc, char** argv) {
  using namespace kubetrain;
  auto world = make_world_communicator(&argc, &argv);
  const int64_t count = 1 << 16;
  std::vector<float> gradients(count, 1.0f);
  HostWaits waits;
  auto reducer = make_host_gradient_reducer(*world, gradients.data(), count, 4096, waits);
  const auto watchdog = make_collective_watchdog(world->size(), waits, std::chrono::seconds(1));
  if (world->rank() == 1) {
    std::this_thread::sleep_for(std::chrono::minutes(1));
    spdlog::error("rank 1 was not ended");
    return 1;
  }
  reducer->mark_ready(0, count);
  reducer->finish();
  spdlog::error("the allreduce finished although rank 1 never joined it");
  return 1;
}
