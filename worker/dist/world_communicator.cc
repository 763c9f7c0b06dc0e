#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

#include "worker/dist/communicator.h"

#ifdef KUBETRAIN_HAVE_MPI
#include <mpi.h>
#endif

namespace kubetrain {
namespace {

class SingleCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  int local_rank() const override { return 0; }
  int local_size() const override { return 1; }
  void broadcast(void*, size_t, int) override {}
  void allreduce_sum(std::span<float>) override {}
  void allreduce_sum(std::span<double>) override {}
  void allreduce_sum(std::span<int64_t>) override {}
  void allreduce_max(std::span<int64_t>) override {}
  void barrier() override {}
  [[noreturn]] void abort(int exit_code) override { std::exit(exit_code); }
};

#ifdef KUBETRAIN_HAVE_MPI

void check(int status, const char* call) {
  if (status == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(status, text, &length);
  throw std::runtime_error(std::string(call) + " failed: " + std::string(text, length));
}

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(int* argc, char*** argv) {
    int provided = 0;
    check(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided), "MPI_Init_thread");
    // Collectives are issued by one thread at a time (the gradient reducer's thread during the
    // backward pass, the main thread otherwise), so SERIALIZED is all that is needed.
    if (provided < MPI_THREAD_SERIALIZED) {
      throw std::runtime_error("the MPI library offers no MPI_THREAD_SERIALIZED support");
    }
    // Errors come back as codes, so they can be reported with context instead of killing the job.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &local_),
          "MPI_Comm_split_type");
    MPI_Comm_rank(local_, &local_rank_);
    MPI_Comm_size(local_, &local_size_);
  }

  ~MpiCommunicator() override {
    MPI_Comm_free(&local_);
    MPI_Finalize();
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  int local_size() const override { return local_size_; }

  void broadcast(void* data, size_t bytes, int root) override {
    // MPI counts are int: send large buffers in chunks.
    auto* bytes_ptr = static_cast<char*>(data);
    constexpr size_t kChunk = size_t{1} << 30;
    for (size_t done = 0; done < bytes; done += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, bytes - done));
      check(MPI_Bcast(bytes_ptr + done, count, MPI_BYTE, root, MPI_COMM_WORLD), "MPI_Bcast");
    }
  }
  void allreduce_sum(std::span<float> values) override { reduce(values, MPI_FLOAT, MPI_SUM); }
  void allreduce_sum(std::span<double> values) override { reduce(values, MPI_DOUBLE, MPI_SUM); }
  void allreduce_sum(std::span<int64_t> values) override { reduce(values, MPI_INT64_T, MPI_SUM); }
  void allreduce_max(std::span<int64_t> values) override { reduce(values, MPI_INT64_T, MPI_MAX); }
  void barrier() override { check(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier"); }
  [[noreturn]] void abort(int exit_code) override {
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    std::exit(exit_code);
  }

 private:
  template <typename T>
  void reduce(std::span<T> values, MPI_Datatype type, MPI_Op op) {
    constexpr size_t kChunk = size_t{1} << 28;
    for (size_t done = 0; done < values.size(); done += kChunk) {
      const int count = static_cast<int>(std::min(kChunk, values.size() - done));
      check(MPI_Allreduce(MPI_IN_PLACE, values.data() + done, count, type, op, MPI_COMM_WORLD),
            "MPI_Allreduce");
    }
  }

  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  MPI_Comm local_ = MPI_COMM_NULL;
};

#endif  // KUBETRAIN_HAVE_MPI

}  // namespace

std::unique_ptr<Communicator> make_single_communicator() {
  return std::make_unique<SingleCommunicator>();
}

std::unique_ptr<Communicator> make_world_communicator(int* argc, char*** argv) {
#ifdef KUBETRAIN_HAVE_MPI
  return std::make_unique<MpiCommunicator>(argc, argv);
#else
  (void)argc;
  (void)argv;
  return make_single_communicator();
#endif
}

}  // namespace kubetrain
