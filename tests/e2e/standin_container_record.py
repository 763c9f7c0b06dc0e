"""What the stand-in knows of one container of a pod: its state as the API shows it, its
readiness probe, and the back-offs between tries to start it."""

import datetime
import re
import time

from standin_pod_status import rfc3339

# kubelet's back-offs: pulling an image, and creating a container again after a failure.
IMAGE_BACKOFF = (10, 300)
CONTAINER_BACKOFF = (2, 60)


class Backoff:
    """Delays between tries of one thing: INITIAL seconds, doubling after each failure, at most CAP."""

    def __init__(self, initial, cap):
        self.initial, self.cap = initial, cap
        self.failures = 0
        self._not_before = 0.0

    def ready(self):
        return time.monotonic() >= self._not_before

    def failed(self):
        self._not_before = time.monotonic() + min(self.initial * 2 ** self.failures, self.cap)
        self.failures += 1

    def succeeded(self):
        self.failures, self._not_before = 0, 0.0


def waiting(reason, message=None):
    """The API's state of a container not running yet."""
    return {"waiting": {"reason": reason, **({"message": message} if message else {})}}


def unknown_termination(started_at):
    """The state kubelet gives a container that vanished under it (its runtime lost it)."""
    return {"terminated": {"exitCode": 137, "reason": "ContainerStatusUnknown",
                           "message": "The container could not be located when the pod was terminated",
                           "startedAt": started_at, "finishedAt": rfc3339()}}


class ContainerRecord:
    """What the stand-in knows of one container of the pod; state is the API's state object."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.state = waiting("ContainerCreating")
        self.container_id = None
        self.image_id = ""
        self.probe = None
        self.started_at = None  # time.monotonic() of the start
        self.backoff = Backoff(*CONTAINER_BACKOFF)
        self.image_backoff = Backoff(*IMAGE_BACKOFF)
        self.logs_saved = False

    @property
    def running(self):
        return "running" in self.state

    @property
    def terminated(self):
        return "terminated" in self.state

    @property
    def ready(self):
        return self.running and (self.probe is None or self.probe.ready)

    def api_status(self):
        status = {"name": self.name, "image": self.spec["image"], "imageID": self.image_id,
                  "ready": self.ready, "started": self.running, "restartCount": 0,
                  "state": self.state, "lastState": {}}
        if self.container_id:
            status["containerID"] = f"podman://{self.container_id}"
        return status


_PODMAN_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?(Z|[+-]\d\d:\d\d)$")


def api_time(podman_time):
    """A podman inspect time (RFC 3339 with nanoseconds) as the API writes times; None if unset."""
    match = _PODMAN_TIME.match(podman_time or "")
    if not match or match.group(1).startswith("0001"):
        return None
    moment = datetime.datetime.fromisoformat(match.group(1) + match.group(2).replace("Z", "+00:00"))
    return rfc3339(moment.timestamp())
