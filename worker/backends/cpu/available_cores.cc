#include "worker/backends/cpu/available_cores.h"

#include <sched.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>

namespace kubetrain {
namespace {

std::optional<int> cores_from_quota(double quota, double period) {
  if (quota <= 0 || period <= 0) return std::nullopt;
  return std::max(1, static_cast<int>((quota + period - 1) / period));
}

// cgroup v2 writes "max 100000" (no limit) or "200000 100000" to cpu.max.
std::optional<int> cgroup_v2_limit() {
  std::ifstream file("/sys/fs/cgroup/cpu.max");
  std::string quota;
  double period = 0;
  if (!(file >> quota >> period) || quota == "max") return std::nullopt;
  return cores_from_quota(std::stod(quota), period);
}

// cgroup v1 has the quota (-1: no limit) and the period in two files.
std::optional<int> cgroup_v1_limit() {
  std::ifstream quota_file("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
  std::ifstream period_file("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
  double quota = 0, period = 0;
  if (!(quota_file >> quota) || !(period_file >> period)) return std::nullopt;
  return cores_from_quota(quota, period);
}

}  // namespace

int available_cores() {
  int cores = 1;
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) cores = std::max(1, CPU_COUNT(&set));
  if (auto limit = cgroup_v2_limit())
    cores = std::min(cores, *limit);
  else if (auto v1 = cgroup_v1_limit())
    cores = std::min(cores, *v1);
  return cores;
}

}  // namespace kubetrain
