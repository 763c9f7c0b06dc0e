"""Readiness probes as a kubelet runs them: exec (in the container), tcpSocket and httpGet (from
the host, to the pod's IP), with their delay, period, timeout and thresholds."""

import socket
import time
import urllib.error
import urllib.request

# podman exec spends up to a few seconds of its own starting the process on a busy machine;
# timeoutSeconds is the probe command's time, so that is allowed on top.
_PODMAN_EXEC_ALLOWANCE_SECONDS = 5


class ReadinessProbe:
    def __init__(self, spec, container, started):
        """SPEC is the container's readinessProbe; STARTED the time.monotonic() it started at."""
        self.spec = spec
        self.container = container
        self.ready = False  # until the probe succeeds, as for a kubelet
        self.last_error = None
        self._period = spec.get("periodSeconds", 10)
        self._timeout = spec.get("timeoutSeconds", 1)
        self._success_threshold = spec.get("successThreshold", 1)
        self._failure_threshold = spec.get("failureThreshold", 3)
        self._next_run = started + spec.get("initialDelaySeconds", 0)
        self._successes = self._failures = 0

    def due(self):
        return time.monotonic() >= self._next_run

    def run(self, podman, container_id, pod_ip):
        """Probes once; returns whether readiness changed."""
        self._next_run = time.monotonic() + self._period
        try:
            failure = self._check(podman, container_id, pod_ip)
        except (OSError, ValueError) as error:
            failure = str(error)
        succeeded, self.last_error = failure is None, failure
        if succeeded:
            self._successes, self._failures = self._successes + 1, 0
        else:
            self._successes, self._failures = 0, self._failures + 1
        was_ready = self.ready
        if self._successes >= self._success_threshold:
            self.ready = True
        elif self._failures >= self._failure_threshold:
            self.ready = False
        return self.ready != was_ready

    def _check(self, podman, container_id, pod_ip):
        """None when the probe succeeds, else why it failed."""
        if "exec" in self.spec:
            command = self.spec["exec"].get("command") or []
            code, errors = podman.exec(container_id, command, self._timeout + _PODMAN_EXEC_ALLOWANCE_SECONDS)
            return None if code == 0 else f"{' '.join(command)}: exit code {code}" + (f": {errors}" if errors else "")
        if "tcpSocket" in self.spec:
            action = self.spec["tcpSocket"]
            with socket.create_connection((action.get("host") or pod_ip, self._port(action["port"])),
                                          timeout=self._timeout):
                return None
        if "httpGet" in self.spec:
            return self._http_get(self.spec["httpGet"], pod_ip)
        raise ValueError("only exec, tcpSocket and httpGet probes are supported by the kubelet stand-in")

    def _http_get(self, action, pod_ip):
        if action.get("scheme", "HTTP") != "HTTP":
            raise ValueError("only HTTP probes are supported by the kubelet stand-in")
        url = f"http://{action.get('host') or pod_ip}:{self._port(action['port'])}{action.get('path', '/')}"
        request = urllib.request.Request(url, headers={header["name"]: header["value"]
                                                       for header in action.get("httpHeaders") or []})
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:
                status = response.status
        except urllib.error.HTTPError as error:  # a status of 400 or more: the probe fails
            status = error.code
        return None if 200 <= status < 400 else f"GET {url}: HTTP {status}"

    def _port(self, port):
        """A port number, or the number of the container port with that name."""
        if isinstance(port, int) or str(port).isdigit():
            return int(port)
        for declared in self.container.get("ports") or []:
            if declared.get("name") == port:
                return declared["containerPort"]
        raise ValueError(f"the container has no port named {port}")
