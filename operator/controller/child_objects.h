#pragma once

// The objects a TrainingJob owns, as pure functions of the job: names, labels, owner reference,
// the headless Service, the ConfigMap (worker config and MPI hostfile) and the SSH Secret.

#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/ssh_key_pair.h"
#include "operator/controller/training_job.h"

namespace kubetrain {

inline constexpr const char* kJobNameLabel = "kubetrain.dev/job-name";
inline constexpr const char* kRoleLabel = "kubetrain.dev/role";
inline constexpr const char* kReplicaIndexLabel = "kubetrain.dev/replica-index";
// Which gang attempt (status.restarts when created) a pod belongs to: a pod from an older
// attempt seen in a stale cache is never mistaken for a failure of the current one.
inline constexpr const char* kAttemptLabel = "kubetrain.dev/attempt";

inline constexpr int kSshPort = 2222;
inline constexpr const char* kConfigMountPath = "/etc/kubetrain/config";
inline constexpr const char* kSshMountPath = "/etc/kubetrain/ssh";
// sshd and ssh refuse keys readable by others, and Secret volumes are shared with a group:
// containers copy the key here (an emptyDir) with mode 0600 before use.
inline constexpr const char* kSshRuntimePath = "/run/kubetrain/ssh";

std::string service_name(const std::string& job);
std::string config_map_name(const std::string& job);
std::string secret_name(const std::string& job);
std::string worker_pod_name(const std::string& job, int64_t index);
std::string launcher_pod_name(const std::string& job);
// NAME-worker-I.NAME-worker.NS.svc: resolvable through the headless Service.
std::string worker_host_name(const ObjectMeta& job, int64_t index);

// "NAME-worker-I.NAME-worker.NS.svc slots=N", one line per worker.
std::string hostfile(const ObjectMeta& job, const TrainingJobSpec& spec);

// The owner reference (controller, blockOwnerDeletion) every child carries.
nlohmann::json owner_reference(const ObjectMeta& job);
// metadata {name, namespace, labels (job-name plus `labels`), ownerReferences}.
nlohmann::json child_metadata(const ObjectMeta& job, const std::string& name,
                              const nlohmann::json& labels = nlohmann::json::object());

nlohmann::json build_service(const ObjectMeta& job);
nlohmann::json build_config_map(const ObjectMeta& job, const TrainingJobSpec& spec);
nlohmann::json build_ssh_secret(const ObjectMeta& job, const SshKeyPair& keys);

}  // namespace kubetrain
