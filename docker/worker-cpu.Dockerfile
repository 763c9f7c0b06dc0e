# kubetrain-worker image for CPUs (oneDNN, Open MPI over TCP), on Debian 12: what runs where no GPU
# is, and what the end-to-end tests run. Same user, sshd, entry point and layout as the GPU image
# (docker/worker.Dockerfile): both set up their runtime stage with docker/install-worker-runtime.sh.
#   podman build --network host -f docker/worker-cpu.Dockerfile -t kubetrain-worker:0.1.0-cpu .
# Build arguments:
#   DEBIAN_IMAGE   base of both stages (default debian:12)
#   BUILD_TYPE     CMake build type (default Release)
#   UID, GID       numeric user and group of kubetrain (default 1000)
#   FASHION_MNIST  1 installs the dataset-fashion-mnist package at /usr/share/datasets/fashion-mnist
#                  for the CPU example (default 1)
ARG DEBIAN_IMAGE=debian:12

FROM ${DEBIAN_IMAGE} AS build
ARG BUILD_TYPE=Release
# The packages a build on Debian 12 needs, from the one list the repository keeps of them.
COPY scripts/install-deps.sh scripts/install-debian-packages.sh /tmp/scripts/
RUN bash /tmp/scripts/install-deps.sh && rm -rf /var/lib/apt/lists/* /tmp/scripts
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY common common
COPY worker worker
COPY docker/runtime-packages.sh /usr/local/bin/runtime-packages.sh
# The compiler cache survives between builds of the image (CMake uses ccache when it is there).
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE} \
      -DKUBETRAIN_CUDA=OFF -DKUBETRAIN_MPI=ON -DKUBETRAIN_TESTS=OFF -DKUBETRAIN_OPERATOR=OFF \
 && cmake --build /build --target kubetrain-worker \
 && strip /build/bin/kubetrain-worker \
 && runtime-packages.sh /build/bin/kubetrain-worker > /build/runtime-packages.txt

FROM ${DEBIAN_IMAGE}
ARG UID=1000
ARG GID=1000
ARG FASHION_MNIST=1
COPY docker /tmp/kubetrain-docker
COPY --from=build /build/runtime-packages.txt /tmp/runtime-packages.txt
RUN bash /tmp/kubetrain-docker/install-worker-runtime.sh ${UID} ${GID} \
      $(cat /tmp/runtime-packages.txt) \
      $([ "${FASHION_MNIST}" = 1 ] && echo dataset-fashion-mnist) \
 && rm /tmp/runtime-packages.txt
COPY --from=build /build/bin/kubetrain-worker /usr/local/bin/kubetrain-worker
USER ${UID}:${GID}
WORKDIR /home/kubetrain
# 2222: sshd for mpirun; 9400: rank 0's /metrics and /progress.
EXPOSE 2222 9400
ENTRYPOINT ["/usr/local/bin/kubetrain-entrypoint"]
CMD ["sshd"]
