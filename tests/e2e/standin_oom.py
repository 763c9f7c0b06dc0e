"""Which containers had a process killed by the kernel for going over their memory limit.

podman's State.OOMKilled is not reliable: on cgroup v1 hosts conmon may miss the kernel's event.
The kernel's own count of OOM kills in the container's memory cgroup is, but the cgroup goes when
the container exits, within about a second. So it is read often while the container runs; once
the count went above zero the container is OOMKilled, as containerd reports one whose cgroup had
an OOM kill (and the pod worker ends the whole container, as kubelet's memory.oom.group does).
"""

import os
import threading

_CGROUP_ROOT = "/sys/fs/cgroup"
_INTERVAL_SECONDS = 0.1


def _counter_file(cgroup_path):
    """The file with the cgroup's oom_kill count: memory.events (v2) or memory.oom_control (v1)."""
    relative = cgroup_path.lstrip("/")
    for candidate in (os.path.join(_CGROUP_ROOT, relative, "memory.events"),
                      os.path.join(_CGROUP_ROOT, "memory", relative, "memory.oom_control")):
        if os.path.exists(candidate):
            return candidate
    return None


def _oom_kills(path):
    try:
        with open(path) as counters:
            for line in counters:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
    except OSError:  # the cgroup went with its container
        pass
    return 0


class OomWatch:
    def __init__(self, stopping):
        self._stopping = stopping
        self._lock = threading.Lock()
        self._counter_files = {}  # container id -> counter file
        self._killed = set()
        threading.Thread(target=self._watch, name="oom-watch", daemon=True).start()

    def watch(self, container_id, cgroup_path):
        path = _counter_file(cgroup_path) if cgroup_path else None
        if path:
            with self._lock:
                self._counter_files[container_id] = path

    def killed(self, container_id):
        with self._lock:
            path = self._counter_files.get(container_id)
            return container_id in self._killed or (path is not None and _oom_kills(path) > 0)

    def forget(self, container_id):
        with self._lock:
            self._counter_files.pop(container_id, None)
            self._killed.discard(container_id)

    def _watch(self):
        while not self._stopping.wait(_INTERVAL_SECONDS):
            with self._lock:
                watched = list(self._counter_files.items())
            for container_id, path in watched:
                if container_id not in self._killed and _oom_kills(path) > 0:
                    with self._lock:
                        self._killed.add(container_id)
