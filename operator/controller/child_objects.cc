#include "operator/controller/child_objects.h"

namespace kubetrain {

using nlohmann::json;

std::string service_name(const std::string& job) { return job + "-worker"; }
std::string config_map_name(const std::string& job) { return job + "-config"; }
std::string secret_name(const std::string& job) { return job + "-ssh"; }
std::string worker_pod_name(const std::string& job, int64_t index) {
  return job + "-worker-" + std::to_string(index);
}
std::string launcher_pod_name(const std::string& job) { return job + "-launcher"; }

std::string worker_host_name(const ObjectMeta& job, int64_t index) {
  return worker_pod_name(job.name, index) + "." + service_name(job.name) + "." + job.namespace_ + ".svc";
}

std::string hostfile(const ObjectMeta& job, const TrainingJobSpec& spec) {
  std::string text;
  for (int64_t index = 0; index < spec.workers; ++index) {
    text += worker_host_name(job, index) + " slots=" + std::to_string(spec.slots_per_worker) + "\n";
  }
  return text;
}

json owner_reference(const ObjectMeta& job) {
  return {{"apiVersion", kTrainingJobApiVersion},
          {"kind", kTrainingJobKind},
          {"name", job.name},
          {"uid", job.uid},
          {"controller", true},
          {"blockOwnerDeletion", true}};
}

json child_metadata(const ObjectMeta& job, const std::string& name, const json& labels) {
  json all_labels = labels;
  all_labels[kJobNameLabel] = job.name;
  return {{"name", name},
          {"namespace", job.namespace_},
          {"labels", all_labels},
          {"ownerReferences", json::array({owner_reference(job)})}};
}

json build_service(const ObjectMeta& job) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", child_metadata(job, service_name(job.name))},
          {"spec",
           {{"clusterIP", "None"},
            // mpirun resolves the hosts before sshd is Ready on every one of them.
            {"publishNotReadyAddresses", true},
            {"selector", {{kJobNameLabel, job.name}, {kRoleLabel, "worker"}}},
            {"ports", json::array({{{"name", "ssh"}, {"port", kSshPort}, {"targetPort", kSshPort}}})}}}};
}

json build_config_map(const ObjectMeta& job, const TrainingJobSpec& spec) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", child_metadata(job, config_map_name(job.name))},
          // JSON is YAML: the worker reads training verbatim from worker.yaml.
          {"data", {{"worker.yaml", spec.training.dump(2) + "\n"}, {"hostfile", hostfile(job, spec)}}}};
}

json build_ssh_secret(const ObjectMeta& job, const SshKeyPair& keys) {
  return {{"apiVersion", "v1"},
          {"kind", "Secret"},
          {"metadata", child_metadata(job, secret_name(job.name))},
          {"type", "kubernetes.io/ssh-auth"},
          {"stringData",
           {{"ssh-privatekey", keys.private_key},
            {"ssh-publickey", keys.public_key},
            {"authorized_keys", keys.public_key}}}};
}

}  // namespace kubetrain
