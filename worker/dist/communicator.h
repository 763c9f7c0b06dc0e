#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace kubetrain {

// The process group: MPI_COMM_WORLD under mpirun, or a single rank. Host-memory collectives only;
// GPU gradients go through NCCL, bootstrapped with broadcast().
class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank among the processes on this node (shared-memory split); picks the GPU.
  virtual int local_rank() const = 0;
  virtual int local_size() const = 0;

  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  virtual void allreduce_sum(std::span<float> values) = 0;
  virtual void allreduce_sum(std::span<double> values) = 0;
  virtual void allreduce_sum(std::span<int64_t> values) = 0;
  virtual void allreduce_max(std::span<int64_t> values) = 0;
  virtual void barrier() = 0;
  // Ends every rank of the job with `exit_code` (a rank that hits a fatal error while others may
  // be blocked in a collective).
  [[noreturn]] virtual void abort(int exit_code) = 0;
};

// MPI_COMM_WORLD when the worker was built with MPI (initialising MPI, thread level MULTIPLE),
// else a single rank. Finalises MPI when destroyed.
std::unique_ptr<Communicator> make_world_communicator(int* argc, char*** argv);
// A single-rank communicator, for tests and for a worker built without MPI.
std::unique_ptr<Communicator> make_single_communicator();

}  // namespace kubetrain
