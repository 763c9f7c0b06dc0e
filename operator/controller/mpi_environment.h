#pragma once

// The launcher's environment: the same settings under Open MPI 4's (ORTE) and Open MPI 5's
// (PRRTE) names, since each silently ignores the other's, plus NCCL defaults.

#include <string>

#include <nlohmann/json.hpp>

#include "operator/controller/training_job.h"

namespace kubetrain {

// ssh options mpirun passes when it starts its daemons on the workers.
std::string mpi_ssh_arguments();

// A list of {name, value} env entries for the launcher container.
nlohmann::json launcher_environment(const TrainingJobSpec& spec);

// NCCL settings forwarded to every rank (also set on workers so an interactive debug shell sees them).
nlohmann::json nccl_environment();

// The launcher's shell command: copies the key, then `exec mpirun -np W*S ...`.
std::string launcher_command(const TrainingJobSpec& spec);

}  // namespace kubetrain
