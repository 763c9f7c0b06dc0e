# kubetrain-operator image: built on Debian 12, shipped on debian:12-slim with only the shared
# libraries the binary loads, running as a non-root user.
#   docker build -f docker/operator.Dockerfile -t kubetrain-operator:0.1.0 .
#   podman build --network host -f docker/operator.Dockerfile -t kubetrain-operator:0.1.0 .
# Build arguments:
#   DEBIAN_IMAGE   base of both stages (default debian:12)
#   RUNTIME_IMAGE  base of the runtime stage (default debian:12-slim)
#   BUILD_TYPE     CMake build type (default Release)
#   UID, GID       numeric user and group the operator runs as (default 65532, as the chart expects)
ARG DEBIAN_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

FROM ${DEBIAN_IMAGE} AS build
ARG BUILD_TYPE=Release
# The top-level CMake project resolves every dependency of the repository, so the worker's
# libraries (oneDNN, libjpeg) are needed to configure, though only the operator is built: the
# packages come from the one list the repository keeps (the same two layers as the CPU worker
# image's build stage, so a build of both shares them).
COPY scripts/install-deps.sh scripts/install-debian-packages.sh /tmp/scripts/
RUN bash /tmp/scripts/install-deps.sh && rm -rf /var/lib/apt/lists/* /tmp/scripts
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY common common
COPY worker worker
COPY operator operator
COPY docker/runtime-packages.sh /usr/local/bin/runtime-packages.sh
# The compiler cache survives between builds of the image (CMake uses ccache when it is there).
RUN --mount=type=cache,target=/root/.cache/ccache \
    cmake -S . -B /build -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE} \
      -DKUBETRAIN_CUDA=OFF -DKUBETRAIN_MPI=OFF -DKUBETRAIN_TESTS=OFF -DKUBETRAIN_OPERATOR=ON \
 && cmake --build /build --target kubetrain-operator \
 && strip /build/bin/kubetrain-operator \
 && runtime-packages.sh /build/bin/kubetrain-operator > /build/runtime-packages.txt

FROM ${RUNTIME_IMAGE}
ARG UID=65532
ARG GID=65532
COPY --from=build /build/runtime-packages.txt /tmp/runtime-packages.txt
# ca-certificates: for API servers behind a public CA named in a kubeconfig.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages.txt) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages.txt \
 && groupadd --gid ${GID} kubetrain \
 && useradd --uid ${UID} --gid ${GID} --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin kubetrain
COPY --from=build /build/bin/kubetrain-operator /usr/local/bin/kubetrain-operator
USER ${UID}:${GID}
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/kubetrain-operator"]
