"""The Node the stand-in stands for: its labels, and a status (capacity, addresses, conditions)
whose heartbeat is refreshed as a kubelet refreshes it."""

import os
import platform

from standin_pod_status import rfc3339

HEARTBEAT_SECONDS = 10
KUBELET_VERSION = "v1.30.0-kubetrain-standin"
MAX_PODS = "110"  # kubelet's default
_ARCHITECTURES = {"x86_64": "amd64", "aarch64": "arm64", "ppc64le": "ppc64le", "s390x": "s390x"}


def architecture():
    return _ARCHITECTURES.get(platform.machine(), platform.machine())


def node_labels(name, extra):
    return {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
            "kubernetes.io/arch": architecture(), **extra}


def node_status(name, internal_ip, ready_since, runtime_version):
    """The whole status, Ready since READY_SINCE (an API time), with a heartbeat of now;
    RUNTIME_VERSION is podman's version."""
    now = rfc3339()
    capacity = {"cpu": str(os.cpu_count()), "memory": f"{_memory_kibibytes()}Ki", "pods": MAX_PODS}

    def condition(kind, status, reason, message, since=ready_since):
        return {"type": kind, "status": status, "reason": reason, "message": message,
                "lastHeartbeatTime": now, "lastTransitionTime": since}
    return {
        "capacity": capacity,
        "allocatable": dict(capacity),
        "addresses": [{"type": "InternalIP", "address": internal_ip}, {"type": "Hostname", "address": name}],
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            condition("Ready", "True", "KubeletReady", "the kubelet stand-in is posting ready status"),
        ],
        "nodeInfo": {
            "machineID": _read_first_line("/etc/machine-id"),
            "systemUUID": "",
            "bootID": _read_first_line("/proc/sys/kernel/random/boot_id"),
            "kernelVersion": platform.release(),
            "osImage": _os_image(),
            "containerRuntimeVersion": f"podman://{runtime_version}",
            "kubeletVersion": KUBELET_VERSION,
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": architecture(),
        },
    }


def _memory_kibibytes():
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return 0


def _read_first_line(path):
    try:
        with open(path) as source:
            return source.readline().strip()
    except OSError:
        return ""


def _os_image():
    try:
        with open("/etc/os-release") as release:
            for line in release:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"
