"""One Kubernetes pod bound to the node, run as a kubelet runs it, on a thread of its own.

Each tick (a second, or sooner when the pod changes or podman was polled) it does the next step
of the pod's life: set up its volumes and sandbox, create and start the containers whose turn it
is (with kubelet's back-off after a failure), observe them, probe their readiness and write the
pod's status when it changed. A deletionTimestamp stops the containers gracefully and confirms
the deletion; a pod gone from the API is killed at once.
"""

import dataclasses
import os
import threading
import time
import traceback
from typing import Callable

import urllib3
from kubernetes.client.rest import ApiException

from standin_api import KubeApi, describe, is_transient
from standin_container_args import podman_create_arguments
from standin_container_record import Backoff, ContainerRecord, api_time, unknown_termination, waiting
from standin_env import container_environment
from standin_errors import ContainerConfigError, PodmanError, VolumeSetupError
from standin_monitor import ContainerMonitor
from standin_oom import OomWatch
from standin_pod_status import OWN_CONDITIONS, pod_conditions, pod_phase, rfc3339
from standin_podman import Podman
from standin_probes import ReadinessProbe
from standin_volumes import mount_arguments, set_up_volumes, tear_down_volumes

TICK_SECONDS = 1.0
SHUTDOWN_GRACE_SECONDS = 3  # the stand-in stopping is no deletion: the pods get a short grace
DEFAULT_GRACE_SECONDS = 30
# Back-offs of retries after a failure: setting up the volumes and sandbox (as kubelet retries
# a mount), writing the status.
VOLUME_BACKOFF = (1, 30)
API_BACKOFF = (1, 30)
# A call to the API server that failed (answered with an error, or not at all).
_API_ERRORS = (ApiException, urllib3.exceptions.HTTPError)


@dataclasses.dataclass
class PodContext:
    """What every pod worker shares."""
    api: KubeApi
    podman: Podman
    monitor: ContainerMonitor
    oom_watch: OomWatch
    node_name: str
    network: str
    host_ip: str  # the network's gateway: the node's InternalIP
    cluster_domain: str
    state_dir: str
    stopping: threading.Event  # set when the stand-in stops
    log: Callable[[str], None]


class PodWorker:
    def __init__(self, context, pod, on_done):
        self.context = context
        metadata = pod["metadata"]
        self.uid, self.namespace, self.name = metadata["uid"], metadata["namespace"], metadata["name"]
        self._pod = pod
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._vanished = False
        self._on_done = on_done
        self.containers = [ContainerRecord(spec) for spec in pod["spec"].get("containers") or []]
        self.pod_dir = os.path.join(context.state_dir, "pods", self.uid)
        self.sandbox_name = f"{self.namespace}_{self.name}_{self.uid[:8]}"
        self.sandbox = None
        self.pod_ip = None
        self.volumes = {}
        self.hosts_file = None
        self.start_time = rfc3339()  # when the kubelet took the pod on
        self._runtime_removed = False
        self._last_written = None
        self._last_problem = None
        self._volume_backoff = Backoff(*VOLUME_BACKOFF)
        self._status_backoff = Backoff(*API_BACKOFF)
        self._adopt_earlier_status(pod)
        self._thread = threading.Thread(target=self._run, name=f"pod {self.name}", daemon=True)

    # --- what the rest of the stand-in calls --------------------------------------------------------

    def start(self):
        self._thread.start()

    def join(self, timeout):
        self._thread.join(timeout)

    def update(self, pod):
        with self._lock:
            self._pod = pod
        self._wake.set()

    def vanish(self):
        """The pod is gone from the API: kill and remove it at once."""
        self._vanished = True
        self._wake.set()

    def wake(self):
        self._wake.set()

    @property
    def pod(self):
        with self._lock:
            return self._pod

    def log(self, message):
        self.context.log(f"pod {self.namespace}/{self.name}: {message}")

    # --- the pod's life ----------------------------------------------------------------------------

    def _run(self):
        try:
            refusal = self._unsupported(self.pod)
            if refusal:
                self.log(f"refused: {refusal}")
                for record in self.containers:
                    record.state = waiting("CreateContainerConfigError", refusal)
            while True:
                self._wake.wait(TICK_SECONDS)
                self._wake.clear()
                try:
                    if self._vanished or self.context.stopping.is_set():
                        self._kill("it was deleted from the API" if self._vanished else "the stand-in stops")
                        return
                    pod = self.pod
                    if pod["metadata"].get("deletionTimestamp"):
                        self._delete_gracefully(pod)
                        return
                    if not refusal:
                        self._sync(pod)
                    self._write_status()
                except Exception:  # a bug must cost one pod a tick, never the stand-in
                    self._problem(f"error, retried next tick:\n{traceback.format_exc()}")
        finally:
            self._on_done(self)

    def _unsupported(self, pod):
        spec = pod["spec"]
        if spec.get("restartPolicy", "Always") != "Never":
            return (f"restartPolicy {spec.get('restartPolicy', 'Always')} is not supported by the kubelet "
                    "stand-in (only Never)")
        for field in ("initContainers", "ephemeralContainers"):
            if spec.get(field):
                return f"{field} are not supported by the kubelet stand-in"
        if spec.get("hostNetwork"):
            return "hostNetwork is not supported by the kubelet stand-in"
        return None

    def _adopt_earlier_status(self, pod):
        """A pod bound here that ran before (a stand-in before this one ran it): a finished one
        stays as it is; the containers of an unfinished one are gone, as kubelet reports that."""
        status = pod.get("status") or {}
        earlier = {entry["name"]: entry for entry in status.get("containerStatuses") or []}
        for record in self.containers:
            state = (earlier.get(record.name) or {}).get("state") or {}
            if "terminated" in state:
                record.state = {"terminated": state["terminated"]}
            elif "running" in state:
                record.state = unknown_termination(state["running"].get("startedAt"))
            if "terminated" in record.state:
                record.logs_saved = True
        if status.get("startTime"):
            self.start_time = status["startTime"]
        if status.get("podIP"):
            self.pod_ip = status["podIP"]

    def _sync(self, pod):
        if all(record.terminated for record in self.containers):
            if not self._runtime_removed:
                self.log(f"finished: {pod_phase([record.api_status() for record in self.containers])}")
                self._remove_runtime()
            return
        if self.sandbox is None:
            if self._volume_backoff.ready():
                self._prepare(pod)
            return
        for record in self.containers:
            if record.container_id is None and "waiting" in record.state:
                if record.backoff.ready() and record.image_backoff.ready():
                    self._start_container(pod, record)
                elif record.state["waiting"]["reason"] == "ErrImagePull":
                    record.state = waiting("ImagePullBackOff", f'Back-off pulling image "{record.spec["image"]}"')
        self._observe()
        self._probe()

    def _prepare(self, pod):
        """Volumes, then the sandbox (the podman pod: network, IP, hostname, DNS), then /etc/hosts."""
        spec = pod["spec"]
        hostname = spec.get("hostname") or _hostname_of(self.name)
        domain = self.context.cluster_domain
        fqdn = f"{hostname}.{spec['subdomain']}.{self.namespace}.svc.{domain}" if spec.get("subdomain") else None
        try:
            os.makedirs(self.pod_dir, exist_ok=True)
            self.volumes = set_up_volumes(pod, self.pod_dir, self.context.api.read_config_map,
                                          self.context.api.read_secret)
            aliases = [f"{hostname}.{spec['subdomain']}", fqdn] if fqdn else []
            self.pod_ip = self.context.podman.create_sandbox(
                self.sandbox_name, self._labels(), self.context.network,
                fqdn if fqdn and spec.get("setHostnameAsFQDN") else hostname, aliases,
                [f"{self.namespace}.svc.{domain}", f"svc.{domain}", domain])
        except (VolumeSetupError, PodmanError, OSError, ValueError, *_API_ERRORS) as error:
            message = describe(error) if isinstance(error, _API_ERRORS) else str(error)
            self._problem(f"cannot set the pod up yet: {message}")
            for record in self.containers:
                record.state = waiting("ContainerCreating", message)
            self._volume_backoff.failed()
            self._remove_sandbox_quietly()
            return
        self.sandbox = self.sandbox_name
        self.hosts_file = self._write_hosts_file(pod, hostname, fqdn)
        self._volume_backoff.succeeded()
        self.log(f"sandbox {self.sandbox} up, IP {self.pod_ip}" + (f", resolvable as {fqdn}" if fqdn else ""))

    def _write_hosts_file(self, pod, hostname, fqdn):
        """/etc/hosts as kubelet writes it: the pod's own name (FQDN first, so that `hostname -f`
        gives it) and the spec's hostAliases."""
        lines = ["# Kubernetes-managed hosts file.", "127.0.0.1\tlocalhost",
                 "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet",
                 "fe00::0\tip6-mcastprefix", "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters",
                 "\t".join([self.pod_ip, *([fqdn] if fqdn else []), hostname])]
        aliases = pod["spec"].get("hostAliases") or []
        if aliases:
            lines += ["", "# Entries added by HostAliases."]
            lines += ["\t".join([alias["ip"], *alias.get("hostnames", [])]) for alias in aliases]
        path = os.path.join(self.pod_dir, "etc-hosts")
        with open(path, "w") as hosts:
            hosts.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
        return path

    def _labels(self, container=None):
        """A container's labels, as CRI runtimes label them; the sandbox (whose labels podman gives
        its infra container too) has no pod name, so that a filter on it finds only containers."""
        labels = {"io.kubernetes.pod.namespace": self.namespace, "io.kubernetes.pod.uid": self.uid}
        if container:
            labels.update({"io.kubernetes.pod.name": self.name, "io.kubernetes.container.name": container})
        return labels

    def _start_container(self, pod, record):
        spec = record.spec
        image = self.context.podman.image(spec["image"])
        if image is None:
            record.image_backoff.failed()
            record.state = waiting("ErrImagePull", f'failed to pull image "{spec["image"]}": it is not in '
                                                   "podman's local storage, and the kubelet stand-in does not pull")
            self.log(f"container {record.name}: ErrImagePull, image {spec['image']} is not present "
                     f"(attempt {record.image_backoff.failures})")
            return
        record.image_backoff.succeeded()
        record.image_id = (image.get("RepoDigests") or [f"sha256:{image['Id']}"])[0]
        api = self.context.api
        try:
            environment = container_environment(pod, spec, self.pod_ip, self.context.host_ip,
                                                 api.read_config_map, api.read_secret)
            hosts = ["--mount", f"type=bind,source={self.hosts_file},destination=/etc/hosts"]
            arguments = podman_create_arguments(
                pod, spec, image, environment, hosts + mount_arguments(spec, self.volumes), self.sandbox,
                f"{self.namespace}_{self.name}_{record.name}_{self.uid[:8]}", self._labels(record.name))
        except (ContainerConfigError, VolumeSetupError, ValueError, *_API_ERRORS) as error:
            message = describe(error) if isinstance(error, _API_ERRORS) else str(error)
            self._container_failed(record, "CreateContainerConfigError", message)
            return
        try:
            record.container_id = self.context.podman.create_container(arguments)
        except PodmanError as error:
            self._container_failed(record, "CreateContainerError", str(error))
            return
        record.backoff.succeeded()
        record.started_at = time.monotonic()
        try:
            self.context.podman.start(record.container_id)
        except PodmanError as error:
            # As kubelet reports a process that could not be started, with restartPolicy Never.
            now = rfc3339()
            record.state = {"terminated": {"exitCode": 128, "reason": "StartError", "message": str(error),
                                           "startedAt": now, "finishedAt": now}}
            self.log(f"container {record.name}: StartError: {error}")
            self._save_logs(record)
            return
        details = self.context.podman.inspect(record.container_id) or {}
        state = details.get("State") or {}
        if ((spec.get("resources") or {}).get("limits") or {}).get("memory"):
            self.context.oom_watch.watch(record.container_id, state.get("CgroupPath"))
        record.state = {"running": {"startedAt": api_time(state.get("StartedAt")) or rfc3339()}}
        if spec.get("readinessProbe"):
            record.probe = ReadinessProbe(spec["readinessProbe"], spec, record.started_at)
        ignored = [probe for probe in ("livenessProbe", "startupProbe") if spec.get(probe)]
        self.log(f"container {record.name}: started ({record.container_id[:12]})"
                 + (f"; its {' and '.join(ignored)} not run: the stand-in runs readiness probes only"
                    if ignored else ""))

    def _container_failed(self, record, reason, message):
        record.backoff.failed()
        record.state = waiting(reason, message)
        self.log(f"container {record.name}: {reason}: {message}")

    def _observe(self):
        snapshot = self.context.monitor.snapshot()
        for record in self.containers:
            if not record.running:
                continue
            entry = snapshot.containers.get(record.container_id)
            if entry is None:
                if snapshot.taken_after(record.started_at):
                    self._vanished_container(record)
            elif entry["State"] in ("exited", "stopped"):
                self._record_exit(record)
            elif self.context.oom_watch.killed(record.container_id):
                self._end_oom_killed(record)

    def _end_oom_killed(self, record):
        """The kernel killed a process of the container for its memory limit, maybe not its main
        one: the whole container goes, as with the memory.oom.group kubelet sets (cgroup v2, since
        Kubernetes 1.28), and ends OOMKilled."""
        self.log(f"container {record.name}: a process was OOM-killed; killing the container")
        try:
            self.context.podman.kill(record.container_id)
        except PodmanError as error:  # it ended meanwhile: the next look finds it exited
            self.log(f"container {record.name}: podman kill failed: {error}")
            return
        self._record_exit(record)

    def _record_exit(self, record):
        details = self.context.podman.inspect(record.container_id)
        if details is None:
            self._vanished_container(record)
            return
        state = details["State"]
        exit_code = state.get("ExitCode", 0)
        oom_killed = state.get("OOMKilled") or self.context.oom_watch.killed(record.container_id)
        reason = "OOMKilled" if oom_killed else "Completed" if exit_code == 0 else "Error"
        record.state = {"terminated": {
            "exitCode": exit_code, "reason": reason,
            "startedAt": record.state.get("running", {}).get("startedAt") or api_time(state.get("StartedAt")),
            "finishedAt": api_time(state.get("FinishedAt")) or rfc3339()}}
        self.context.oom_watch.forget(record.container_id)
        self.log(f"container {record.name}: terminated, exit code {exit_code} ({reason})")
        self._save_logs(record)

    def _vanished_container(self, record):
        record.state = unknown_termination(record.state.get("running", {}).get("startedAt"))
        record.logs_saved = True  # nothing left to save
        self.log(f"container {record.name}: gone from podman (ContainerStatusUnknown)")

    def _probe(self):
        for record in self.containers:
            if record.running and record.probe is not None and record.probe.due():
                reported = record.probe.last_error
                if record.probe.run(self.context.podman, record.container_id, self.pod_ip):
                    self.log(f"container {record.name}: " + ("ready" if record.probe.ready else
                                                             f"not ready ({record.probe.last_error})"))
                elif record.probe.last_error not in (None, reported):  # each new reason once
                    self.log(f"container {record.name}: readiness probe failed: {record.probe.last_error}")

    # --- the end of the pod's life -----------------------------------------------------------------

    def _delete_gracefully(self, pod):
        """A deletionTimestamp: SIGTERM, SIGKILL after the grace period, the final status, then the
        deletion confirmed, as a kubelet confirms it."""
        spec, metadata = pod["spec"], pod["metadata"]
        grace = metadata.get("deletionGracePeriodSeconds")
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_SECONDS)
        running = [record for record in self.containers if record.running]
        if running:
            self.log(f"deleting: SIGTERM to {len(running)} container(s), SIGKILL after {grace} s")
        self._stop_containers(running, grace)
        self._remove_runtime()
        while not self._vanished and not self.context.stopping.is_set():
            try:
                if self._write_status(final=True):
                    self.context.api.confirm_deletion(self.pod)
                    self.log("deleted")
                    return
            except Exception as error:  # the API server may be restarting; the deletion must happen
                self.log(f"confirming the deletion failed ({describe(error)}); retrying")
                self._status_backoff.failed()
            self._wake.wait(TICK_SECONDS)
            self._wake.clear()

    def _kill(self, why):
        running = [record for record in self.containers if record.running]
        if not self._runtime_removed:
            self.log(f"killing: {why}")
        self._stop_containers(running, 0 if self._vanished else SHUTDOWN_GRACE_SECONDS)
        self._remove_runtime()

    def _stop_containers(self, records, grace):
        if not records:
            return
        try:
            self.context.podman.stop([record.container_id for record in records], grace)
        except PodmanError as error:
            self.log(f"podman stop failed: {error}")
        for record in records:
            self._record_exit(record)

    def _remove_runtime(self):
        """Saves what logs are not saved yet, removes the sandbox with its containers, and the
        volumes: once every container has ended."""
        if self._runtime_removed:
            return
        for record in self.containers:
            if record.container_id and not record.logs_saved:
                self._save_logs(record)
        if self.sandbox:
            try:
                self.context.podman.remove_sandbox(self.sandbox, 0)
            except PodmanError as error:
                self.log(f"removing sandbox {self.sandbox} failed: {error}")
        else:
            self._remove_sandbox_quietly()
        for record in self.containers:
            if record.container_id:
                self.context.oom_watch.forget(record.container_id)
        tear_down_volumes(self.pod_dir)
        self._runtime_removed = True
        if self.sandbox:
            self.log(f"sandbox {self.sandbox} removed")

    def _remove_sandbox_quietly(self):
        try:
            self.context.podman.remove_sandbox(self.sandbox_name, 0)
        except PodmanError:
            pass  # there was none

    def _save_logs(self, record):
        path = os.path.join(self.context.state_dir, "logs",
                            f"{self.namespace}_{self.name}_{record.name}.{self.uid}.log")
        try:
            self.context.podman.save_logs(record.container_id, path)
            record.logs_saved = True
        except (PodmanError, OSError) as error:
            self.log(f"container {record.name}: saving its log failed: {error}")

    # --- status ------------------------------------------------------------------------------------

    def _status(self, pod):
        """The pod's status now: the fields a kubelet owns from what it observed, the others (and
        other writers' conditions) as the API has them."""
        statuses = [record.api_status() for record in self.containers]
        phase = pod_phase(statuses)
        current = pod.get("status") or {}
        # The watch may not have brought our last write yet; our conditions' history is in it.
        earlier = (self._last_written or current).get("conditions")
        others = [condition for condition in current.get("conditions") or []
                  if condition["type"] not in OWN_CONDITIONS]
        status = {**current, "phase": phase, "conditions": others + pod_conditions(phase, statuses, earlier),
                  "hostIP": self.context.host_ip, "hostIPs": [{"ip": self.context.host_ip}],
                  "startTime": self.start_time, "containerStatuses": statuses}
        if self.pod_ip:
            status.update(podIP=self.pod_ip, podIPs=[{"ip": self.pod_ip}])
        return status

    def _write_status(self, final=False):
        """Writes the status when it changed; True once the API has it. A conflict re-reads the
        pod and tries again; other failures are retried on later ticks, with back-off."""
        if not final and not self._status_backoff.ready():
            return False
        for _ in range(5):
            pod = self.pod
            status = self._status(pod)
            if status == self._last_written:
                return True
            try:
                written = self.context.api.replace_pod_status({**pod, "status": status})
            except ApiException as error:
                if error.status == 409:
                    fresh = self.context.api.read_pod(self.name)
                    if fresh is None or fresh["metadata"]["uid"] != self.uid:
                        self.vanish()
                        return False
                    self._newer_view(pod, fresh)
                    continue
                if error.status == 404:
                    self.vanish()
                    return False
                self._status_failed(error)
                return False
            except Exception as error:
                if not is_transient(error):
                    raise
                self._status_failed(error)
                return False
            self._last_written = status
            self._status_backoff.succeeded()
            self._newer_view(pod, written)
            return True
        return False

    def _newer_view(self, basis, newer):
        """Takes NEWER (what a write or read returned) as the pod unless the watch delivered a view
        since BASIS: that one may be newer still (a deletion), and must not be lost."""
        with self._lock:
            if self._pod is basis:
                self._pod = newer

    def _status_failed(self, error):
        self._status_backoff.failed()
        self._problem(f"writing the status failed: {describe(error)}")

    def _problem(self, message):
        """Logs MESSAGE unless it is what the previous problem said (a retry every second)."""
        if message != self._last_problem:
            self.log(message)
        self._last_problem = message


def _hostname_of(pod_name):
    """A pod's default hostname: its name, cut to 63 characters as kubelet cuts it."""
    return pod_name[:63].rstrip("-.")
