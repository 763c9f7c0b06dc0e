#pragma once

// The worker and launcher pods of one gang attempt, as pure functions of the job.

#include <nlohmann/json.hpp>

#include "operator/controller/training_job.h"

namespace kubetrain {

// NAME-worker-I: sshd on port 2222 as non-root with a tcpSocket readiness probe, the SSH Secret
// and the ConfigMap mounted read-only, spec.resources, and spec.template merged in (labels,
// annotations, volumes, volumeMounts, env, nodeSelector, tolerations, affinity, schedulerName,
// imagePullSecrets, priorityClassName, serviceAccountName, securityContext).
nlohmann::json build_worker_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t index,
                                int64_t attempt);

// NAME-launcher: restartPolicy Never, runs mpirun over the hostfile with Open MPI 4/5 and NCCL
// environment; created only once every worker is Ready.
nlohmann::json build_launcher_pod(const ObjectMeta& job, const TrainingJobSpec& spec, int64_t attempt);

}  // namespace kubetrain
