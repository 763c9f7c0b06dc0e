"""What podman says about the stand-in's containers, once a second, in one `podman ps` for all
pods: a podman call per pod per second would cost the machine a core's worth of time."""

import dataclasses
import threading
import time

from standin_errors import PodmanError

POLL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Snapshot:
    containers: dict  # container id -> its `podman ps --format json` entry
    taken_at: float  # time.monotonic() when podman was asked

    def taken_after(self, moment):
        """Whether podman was asked after MOMENT (time.monotonic()): only such a snapshot lists a
        container created at MOMENT, so only its silence says the container is gone."""
        return self.taken_at > moment


class ContainerMonitor:
    def __init__(self, podman, stopping, on_snapshot, log):
        self._podman, self._stopping, self._on_snapshot, self._log = podman, stopping, on_snapshot, log
        self._snapshot = Snapshot({}, 0.0)
        self._lock = threading.Lock()
        threading.Thread(target=self._poll, name="container-monitor", daemon=True).start()

    def snapshot(self):
        with self._lock:
            return self._snapshot

    def _poll(self):
        failing = False
        while not self._stopping.is_set():
            asked = time.monotonic()
            try:
                entries = self._podman.owned_containers()
                with self._lock:
                    self._snapshot = Snapshot({entry["Id"]: entry for entry in entries}, asked)
                failing = False
                self._on_snapshot()
            except (PodmanError, ValueError) as error:
                if not failing:  # once per streak of failures, not once a second
                    self._log(f"podman ps failed: {error}")
                failing = True
            self._stopping.wait(max(0.0, POLL_SECONDS - (time.monotonic() - asked)))
