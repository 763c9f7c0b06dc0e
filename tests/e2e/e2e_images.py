"""The images the e2e suite runs: built with podman from the repository's Dockerfiles.

No image registry may be reachable, so the debian:12 base both Dockerfiles start from is made
locally: a Debian 12 minbase tarball (scripts/debian-base-tarball.sh, mmdebstrap) imported into
podman. podman reuses the layers of earlier builds, and the Dockerfiles' compiler cache mounts keep
a rebuild after a source change short.
"""

import datetime
import json
import os
import subprocess
import time

from e2e_podman import podman, podman_environment, podman_output

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASE_IMAGE = "localhost/debian:12"
BASE_MAX_AGE = datetime.timedelta(days=30)
DEFAULT_CACHE_DIR = os.environ.get("KUBETRAIN_E2E_CACHE", "/var/cache/kubetrain-e2e")  # the tarball
WORKER_IMAGE = "localhost/kubetrain-worker:e2e"
OPERATOR_IMAGE = "localhost/kubetrain-operator:e2e"


def _image_created(image):
    """When `image` was made, or None when podman has no such image."""
    if podman("image", "exists", image, check=False).returncode != 0:
        return None
    created = json.loads(podman_output("image", "inspect", image))[0]["Created"]
    # podman prints nanoseconds, which fromisoformat does not take.
    seconds, _, rest = created.partition(".")
    zone = rest.lstrip("0123456789") or "Z"
    return datetime.datetime.fromisoformat(seconds + zone.replace("Z", "+00:00"))


def ensure_base_image(cache_dir):
    created = _image_created(BASE_IMAGE)
    now = datetime.datetime.now(datetime.timezone.utc)
    if created is not None and now - created < BASE_MAX_AGE:
        return
    tarball = os.path.join(cache_dir, "debian12-minbase.tar")
    subprocess.run(["bash", os.path.join(REPO, "scripts/debian-base-tarball.sh"), tarball], check=True)
    podman("import", "--quiet", tarball, BASE_IMAGE)


def build_images(log, log_dir):
    """Builds the CPU worker image and the operator image; returns {image: seconds}. Each build's
    output goes to LOG_DIR/build-NAME.log, whose end a failure shows."""
    builds = {
        WORKER_IMAGE: ["-f", "docker/worker-cpu.Dockerfile"],
        # debian:12-slim cannot be pulled either; the runtime stage starts from the same base.
        OPERATOR_IMAGE: ["-f", "docker/operator.Dockerfile", "--build-arg", "RUNTIME_IMAGE=debian:12"],
    }
    durations = {}
    for image, arguments in builds.items():
        log(f"building {image} ({arguments[1]})")
        started = time.monotonic()
        # The machine's resolver does not answer from a container's own network namespace.
        build_log = os.path.join(log_dir, "build-" + image.rsplit("/", 1)[1].replace(":", "-") + ".log")
        with open(build_log, "w") as output:
            result = subprocess.run(["podman", "build", "--network", "host", "-t", image, *arguments, REPO],
                                    env=podman_environment(), stdout=output, stderr=subprocess.STDOUT)
        if result.returncode != 0:
            with open(build_log) as output:
                tail = output.read()[-6000:]
            raise RuntimeError(f"building {image} failed (exit code {result.returncode}); the end of {build_log}:\n{tail}")
        durations[image] = time.monotonic() - started
    return durations
