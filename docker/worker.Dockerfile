# kubetrain-worker image: the training binary with CUDA, cuDNN, NCCL and Open MPI, and an sshd that
# runs as the non-root user kubetrain on port 2222 so that the launcher's mpirun can start ranks in
# the worker pods. The same image runs the workers (command "sshd") and the launcher (mpirun ...).
#   docker build -f docker/worker.Dockerfile -t kubetrain-worker:0.1.0 .
# Build arguments:
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

FROM nvidia/cuda:${CUDA_VERSION}-cudnn-devel-ubuntu${UBUNTU_VERSION} AS build
ARG BUILD_TYPE=Release
ARG CUDA_ARCHITECTURES="80-real;90-real;90-virtual"
# The CPU backend is written against oneDNN 2's API (Debian 12 ships 2.6.3); Ubuntu 24.04 has only
# oneDNN 3, whose API differs. Debian 12's two oneDNN packages, checked against their published
# SHA-256, install on Ubuntu 24.04 as they are (they need only libgomp1 and the OpenCL loader).
ARG ONEDNN_POOL=https://deb.debian.org/debian/pool/main/o/onednn
ADD ${ONEDNN_POOL}/libdnnl2_2.6.3-1_amd64.deb ${ONEDNN_POOL}/libdnnl-dev_2.6.3-1_amd64.deb /tmp/onednn/
RUN printf '%s  %s\n' \
      9a8c4d2a880ac44175e531f55b9618b6539584c9fc5fd9eaf2070b6099a819bd libdnnl2_2.6.3-1_amd64.deb \
      1ac357ed0464a1c559dd66600ee3e713a2eb3531e743ccebb9f4e9193497bef3 libdnnl-dev_2.6.3-1_amd64.deb \
      | (cd /tmp/onednn && sha256sum -c -) \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libopenmpi-dev openmpi-bin libnccl-dev \
      /tmp/onednn/libdnnl2_2.6.3-1_amd64.deb /tmp/onednn/libdnnl-dev_2.6.3-1_amd64.deb \
      ocl-icd-opencl-dev opencl-c-headers \
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
COPY --from=build /build/runtime-packages.txt /tmp/runtime-packages.txt
# runtime-packages.txt names libdnnl2, which Ubuntu does not have: apt takes it from this file.
COPY --from=build /tmp/onednn/libdnnl2_2.6.3-1_amd64.deb /tmp/onednn/
# The base image's default user "ubuntu" holds UID 1000; kubetrain takes its place. Host keys that
# openssh-server generates at install time are removed so that no two images share them.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      openmpi-bin openssh-server openssh-client libnccl2 /tmp/onednn/libdnnl2_2.6.3-1_amd64.deb \
      $(cat /tmp/runtime-packages.txt) \
      $([ "${FASHION_MNIST}" = 1 ] && echo dataset-fashion-mnist) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt /tmp/onednn /etc/ssh/ssh_host_* \
 && (userdel --remove ubuntu 2>/dev/null || true) \
 && groupadd --gid ${GID} kubetrain \
 && useradd --uid ${UID} --gid ${GID} --create-home --shell /bin/bash kubetrain \
 && mkdir -p /run/sshd /etc/kubetrain/ssh /run/kubetrain/ssh /home/kubetrain/.ssh \
 && chmod 0755 /run/sshd \
 && chown -R ${UID}:${GID} /run/kubetrain /home/kubetrain/.ssh \
 && chmod 0700 /run/kubetrain/ssh /home/kubetrain/.ssh
COPY docker/sshd_config /etc/kubetrain/sshd_config
COPY docker/ssh_config /etc/ssh/ssh_config.d/kubetrain.conf
# Commands mpirun starts over ssh (orted, prted and the ranks) get neither the image's ENV nor the
# pod's: sshd reads this file when PermitUserEnvironment allows it, which both the operator's sshd
# command line and docker/sshd_config do.
COPY --chown=${UID}:${GID} docker/ssh_environment /home/kubetrain/.ssh/environment
COPY docker/worker-entrypoint.sh /usr/local/bin/kubetrain-entrypoint
COPY --from=build /build/bin/kubetrain-worker /usr/local/bin/kubetrain-worker
USER ${UID}:${GID}
WORKDIR /home/kubetrain
# 2222: sshd for mpirun; 9400: rank 0's /metrics and /progress.
EXPOSE 2222 9400
ENTRYPOINT ["/usr/local/bin/kubetrain-entrypoint"]
CMD ["sshd"]
