#pragma once

// The worker and launcher pods of one gang attempt, as pure functions of the job.

#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/training_job.h"

namespace kubetrain {

// What a scheduling layer adds to the pods, over spec.template: a gang scheduler's name and the
// group label or annotation (gang_scheduling.h), a Kueue flavor's node labels and tolerations.
struct PodScheduling {
  std::string scheduler_name;                                // replaces the template's when set
  nlohmann::json labels = nlohmann::json::object();
  nlohmann::json annotations = nlohmann::json::object();
  nlohmann::json node_selector = nlohmann::json::object();   // merged over the template's
  nlohmann::json tolerations = nlohmann::json::array();      // added to the template's

  // Lays `other` over this: its scheduler name, labels, annotations and node labels win; its
  // tolerations are added. A gang scheduler's and an admission's layers combine this way.
  PodScheduling& add(const PodScheduling& other);

  bool operator==(const PodScheduling&) const = default;
};

// spec.template.spec, or an empty object.
nlohmann::json template_pod_spec(const TrainingJobSpec& spec);

// NAME-worker-I: sshd on port 2222 as non-root with a tcpSocket readiness probe, the SSH Secret
// and the ConfigMap mounted read-only, spec.resources, and spec.template merged in (labels,
// annotations, volumes, volumeMounts, env, nodeSelector, tolerations, affinity, schedulerName,
// imagePullSecrets, priorityClassName, serviceAccountName, securityContext).
nlohmann::json build_worker_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t index,
                                int64_t attempt, const PodScheduling& scheduling = {});

// NAME-launcher: restartPolicy Never, runs mpirun over the hostfile with Open MPI 4/5 and NCCL
// environment; created only once every worker is Ready.
nlohmann::json build_launcher_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t attempt,
                                  const PodScheduling& scheduling = {});

}  // namespace kubetrain
