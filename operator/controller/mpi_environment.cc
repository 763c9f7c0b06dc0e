#include "operator/controller/mpi_environment.h"

#include "operator/controller/child_objects.h"

namespace kubetrain {

using nlohmann::json;

namespace {

std::string key_copy() { return std::string(kSshRuntimePath) + "/id_ed25519"; }
std::string hostfile_path() { return std::string(kConfigMountPath) + "/hostfile"; }

json env(const std::string& name, const std::string& value) { return {{"name", name}, {"value", value}}; }

}  // namespace

std::string mpi_ssh_arguments() {
  return "-p " + std::to_string(kSshPort) + " -i " + key_copy() +
         " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR"
         " -o ConnectionAttempts=10";
}

json nccl_environment() {
  // Skip loopback and container bridges when NCCL picks its socket interface.
  return json::array({env("NCCL_DEBUG", "WARN"), env("NCCL_SOCKET_IFNAME", "^lo,docker")});
}

json launcher_environment(const TrainingJobSpec& spec) {
  const std::string slots = std::to_string(spec.slots_per_worker);
  json list = json::array({
      // Open MPI 4 (ORTE).
      env("OMPI_MCA_plm_rsh_agent", "ssh"),
      env("OMPI_MCA_plm_rsh_args", mpi_ssh_arguments()),
      env("OMPI_MCA_orte_default_hostfile", hostfile_path()),
      env("OMPI_MCA_orte_keep_fqdn_hostnames", "true"),
      env("OMPI_MCA_orte_set_default_slots", slots),
      // Open MPI 5 (PRRTE).
      env("PRTE_MCA_plm_ssh_agent", "ssh"),
      env("PRTE_MCA_plm_ssh_args", mpi_ssh_arguments()),
      env("PRTE_MCA_prte_default_hostfile", hostfile_path()),
      env("PRTE_MCA_prte_keep_fqdn_hostnames", "1"),
      // The launcher must not take the workers' GPUs.
      env("NVIDIA_VISIBLE_DEVICES", ""),
  });
  for (const json& entry : nccl_environment()) list.push_back(entry);
  return list;
}

std::string launcher_command(const TrainingJobSpec& spec) {
  const std::string key = key_copy();
  return "set -eu\n"
         "cp " + std::string(kSshMountPath) + "/ssh-privatekey " + key + "\n"
         "chmod 600 " + key + "\n"
         "exec mpirun -np " + std::to_string(spec.ranks()) + " --hostfile " + hostfile_path() +
         " -x NCCL_DEBUG -x NCCL_SOCKET_IFNAME kubetrain-worker --config " + kConfigMountPath + "/worker.yaml\n";
}

}  // namespace kubetrain
