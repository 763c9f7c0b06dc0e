"""kube-scheduler's part for a cluster of one node: which pods are its to place, whether they fit
the node (nodeSelector, required node affinity, extended resources), and the pods/binding calls,
retried on a thread of their own so that a slow API server never holds up the pod watch."""

import dataclasses
import threading
import time

from kubernetes.client.rest import ApiException

from standin_api import describe, is_transient
from standin_pod_status import rfc3339

DEFAULT_SCHEDULER = "default-scheduler"
# Resources every node has; any other one requested (nvidia.com/gpu) must be in the node's allocatable.
_BASIC_RESOURCES = {"cpu", "memory", "ephemeral-storage", "pods"}
_RETRY_SECONDS = (1, 2, 5, 10)


def wants_scheduling(pod):
    """An unbound, undeleted, unfinished pod that names no other scheduler."""
    return (not pod["spec"].get("nodeName")
            and pod["spec"].get("schedulerName", DEFAULT_SCHEDULER) in ("", DEFAULT_SCHEDULER)
            and not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


def unschedulable_reason(pod, node_name, labels, allocatable):
    """Why POD cannot go to the node, in kube-scheduler's words; None when it fits. CPU and memory
    requests are not counted against the machine's: podman enforces the limits, and counting would
    make a scenario depend on the size of the machine it runs on."""
    spec = pod["spec"]
    selector = spec.get("nodeSelector") or {}
    required = (((spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    if any(labels.get(key) != value for key, value in selector.items()) or (
            required and not any(_term_matches(term, node_name, labels)
                                 for term in required.get("nodeSelectorTerms") or [])):
        return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector."
    for container in spec.get("containers") or []:
        resources = container.get("resources") or {}
        for name in {**(resources.get("requests") or {}), **(resources.get("limits") or {})}:
            if name not in _BASIC_RESOURCES and not name.startswith("hugepages-") and name not in allocatable:
                return f"0/1 nodes are available: 1 Insufficient {name}."
    return None


def _term_matches(term, node_name, labels):
    """A nodeSelectorTerm: all its expressions hold (an empty term matches no node)."""
    expressions = [(requirement, labels.get(requirement["key"]))
                   for requirement in term.get("matchExpressions") or []]
    expressions += [(requirement, node_name if requirement["key"] == "metadata.name" else None)
                    for requirement in term.get("matchFields") or []]
    return bool(expressions) and all(_requirement_holds(requirement, value) for requirement, value in expressions)


def _requirement_holds(requirement, value):
    operator, values = requirement["operator"], requirement.get("values") or []
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and value.lstrip("-").isdigit():
        return int(value) > int(values[0]) if operator == "Gt" else int(value) < int(values[0])
    return False


@dataclasses.dataclass
class _Pending:
    pod: dict  # the newest view of it
    attempts: int = 0  # failed bindings so far
    not_before: float = 0.0  # time.monotonic() of the next try


class Scheduler:
    def __init__(self, api, node_name, labels, allocatable, stopping, log):
        self.api, self.node_name, self.labels, self.allocatable = api, node_name, labels, allocatable
        self.stopping, self.log = stopping, log
        self._pending = {}  # pod uid -> _Pending
        self._changed = threading.Condition()
        threading.Thread(target=self._run, name="scheduler", daemon=True).start()

    def offer(self, pod):
        """Places POD (the newest view of it) on the node, or marks it Unschedulable."""
        uid = pod["metadata"]["uid"]
        with self._changed:
            if wants_scheduling(pod):
                self._pending.setdefault(uid, _Pending(pod)).pod = pod
                self._changed.notify()
            else:
                self._pending.pop(uid, None)

    def forget(self, uid):
        with self._changed:
            self._pending.pop(uid, None)

    def _run(self):
        while not self.stopping.is_set():
            with self._changed:
                now = time.monotonic()
                due = [(uid, pending) for uid, pending in self._pending.items() if pending.not_before <= now]
                if not due:
                    waits = [pending.not_before - now for pending in self._pending.values()]
                    self._changed.wait(timeout=min(waits, default=1.0))
                    continue
                for uid, _ in due:
                    del self._pending[uid]
            for uid, pending in due:
                self._schedule(uid, pending)

    def _schedule(self, uid, pending):
        pod = pending.pod
        try:
            reason = unschedulable_reason(pod, self.node_name, self.labels, self.allocatable)
            if reason:
                self._mark_unschedulable(pod, reason)
            else:
                self.api.bind(pod, self.node_name)
                self.log(f"bound {pod['metadata']['name']} to {self.node_name}")
        except Exception as error:  # an API error, or a pod spec that is not what the API promises
            self._failed(uid, pending, error)

    def _failed(self, uid, pending, error):
        """Tries again later where that may help; gives up on a pod that went or was bound."""
        pod, name = pending.pod, pending.pod["metadata"]["name"]
        if isinstance(error, ApiException) and error.status == 404:
            return  # deleted meanwhile
        if isinstance(error, ApiException) and error.status == 409:
            # Bound already (by us, or by another scheduler), or our view of the pod is stale.
            try:
                pod = self.api.read_pod(name)
            except Exception:
                pass  # tried again below, with the view we have
            if pod is None or pod["metadata"]["uid"] != uid or not wants_scheduling(pod):
                return
        elif not is_transient(error):
            self.log(f"cannot schedule {name}: {describe(error)}")
            return
        delay = _RETRY_SECONDS[min(pending.attempts, len(_RETRY_SECONDS) - 1)]
        self.log(f"scheduling {name} failed ({describe(error)}); retrying in {delay} s")
        with self._changed:
            newest = self._pending.get(uid, _Pending(pod)).pod  # offered again meanwhile?
            self._pending[uid] = _Pending(newest, pending.attempts + 1, time.monotonic() + delay)

    def _mark_unschedulable(self, pod, reason):
        """PodScheduled=False, reason Unschedulable, once per message (the pod stays Pending)."""
        status = pod.get("status") or {}
        conditions = status.get("conditions") or []
        current = next((condition for condition in conditions if condition["type"] == "PodScheduled"), {})
        if current.get("reason") == "Unschedulable" and current.get("message") == reason:
            return
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": reason,
                     "lastProbeTime": None, "lastTransitionTime": rfc3339()}
        others = [condition for condition in conditions if condition["type"] != "PodScheduled"]
        self.api.replace_pod_status({**pod, "status": {**status, "phase": "Pending",
                                                       "conditions": others + [condition]}})
        self.log(f"{pod['metadata']['name']} is unschedulable: {reason}")
