# kubetrain-worker image: the training binary with CUDA, cuDNN, NCCL and Open MPI, and an sshd that
# runs as the non-root user kubetrain on port 2222 so that the launcher's mpirun can start ranks in
# the worker pods. The same image runs the workers (command "sshd") and the launcher (mpirun ...).
#   docker build -f docker/worker.Dockerfile -t kubetrain-worker:0.1.0 .
# Build arguments:
#   DEBIAN_IMAGE        the Debian 12 image Debian's oneDNN packages are taken from (default debian:12)
#   CUDA_VERSION        CUDA of the nvidia/cuda base images (default 13.0.1)
#   UBUNTU_VERSION      Ubuntu of the nvidia/cuda base images (default 24.04)
#   CUDA_ARCHITECTURES  GPU architectures compiled for (default 80-real;90-real;90-virtual:
#                       A100, H100/H200, and PTX newer GPUs compile at load time)
#   BUILD_TYPE          CMake build type (default Release)
#   UID, GID            numeric user and group of kubetrain (default 1000)
#   FASHION_MNIST       1 installs the dataset-fashion-mnist package at
#                       /usr/share/datasets/fashion-mnist for the CPU example (default 1)
# SSH: the job's Secret is mounted at /etc/kubetrain/ssh (ssh-privatekey, authorized_keys); the
# operator starts sshd and mpirun with command lines that copy the key to /run/kubetrain/ssh (an
# emptyDir) first. Without the operator, the entry point does the same (kubetrain-entrypoint sshd).
ARG CUDA_VERSION=13.0.1
ARG UBUNTU_VERSION=24.04
ARG DEBIAN_IMAGE=debian:12

# The CPU backend is written against oneDNN 2's API (Debian 12 ships 2.6.3); Ubuntu 24.04 has only
# oneDNN 3, whose API differs. Debian 12's two oneDNN packages install on Ubuntu 24.04 as they are
# (they need only libgomp1 and the OpenCL loader): a Debian 12 stage downloads them, verified by
# apt against Debian's signed archive.
FROM ${DEBIAN_IMAGE} AS onednn
RUN apt-get update \
 && mkdir /onednn && cd /onednn && apt-get download libdnnl2 libdnnl-dev \
 && rm -rf /var/lib/apt/lists/*

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu${UBUNTU_VERSION} AS build
ARG BUILD_TYPE=Release
ARG CUDA_ARCHITECTURES="80-real;90-real;90-virtual"
COPY --from=onednn /onednn /tmp/onednn
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libopenmpi-dev openmpi-bin libnccl-dev /tmp/onednn/*.deb ocl-icd-opencl-dev opencl-c-headers \
      libyaml-cpp-dev libspdlog-dev nlohmann-json3-dev libcli11-dev libcpp-httplib-dev \
      libcurl4-openssl-dev libssl-dev zlib1g-dev libjpeg-turbo8-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY common common
COPY worker worker
COPY docker/runtime-packages.sh /usr/local/bin/runtime-packages.sh
RUN cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE} \
      -DKUBETRAIN_CUDA=ON -DKUBETRAIN_MPI=ON -DKUBETRAIN_TESTS=OFF -DKUBETRAIN_OPERATOR=OFF \
      "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHITECTURES}" \
 && cmake --build /build --target kubetrain-worker \
 && strip /build/bin/kubetrain-worker \
 && runtime-packages.sh /build/bin/kubetrain-worker > /build/runtime-packages.txt

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-runtime-ubuntu${UBUNTU_VERSION}
ARG UID=1000
ARG GID=1000
ARG FASHION_MNIST=1
COPY docker /tmp/kubetrain-docker
COPY --from=build /build/runtime-packages.txt /tmp/runtime-packages.txt
# runtime-packages.txt names libdnnl2, which Ubuntu does not have: apt takes it from the .deb file.
# The base image's default user "ubuntu" holds UID 1000; kubetrain takes its place.
COPY --from=onednn /onednn/ /tmp/onednn/
RUN bash /tmp/kubetrain-docker/install-worker-runtime.sh ${UID} ${GID} \
      libnccl2 /tmp/onednn/libdnnl2_*.deb \
      $(grep -vx libdnnl2 /tmp/runtime-packages.txt) \
      $([ "${FASHION_MNIST}" = 1 ] && echo dataset-fashion-mnist) \
 && rm -rf /tmp/runtime-packages.txt /tmp/onednn
COPY --from=build /build/bin/kubetrain-worker /usr/local/bin/kubetrain-worker
USER ${UID}:${GID}
WORKDIR /home/kubetrain
# 2222: sshd for mpirun; 9400: rank 0's /metrics and /progress.
EXPOSE 2222 9400
ENTRYPOINT ["/usr/local/bin/kubetrain-entrypoint"]
CMD ["sshd"]
