"""The parts of a pod's status a kubelet derives from its containers: phase and conditions."""

import datetime
import time

# Conditions the stand-in owns; any other type (DisruptionTarget, readiness gates) is another's.
OWN_CONDITIONS = ("PodScheduled", "Initialized", "ContainersReady", "Ready")


def rfc3339(epoch_seconds=None):
    """The API's time format, to the second, in UTC."""
    moment = datetime.datetime.fromtimestamp(time.time() if epoch_seconds is None else epoch_seconds,
                                             datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_phase(container_statuses):
    """Pending while a container has not run yet, Running while one runs, then Succeeded when every
    container exited 0 and Failed otherwise, as a kubelet decides it for restartPolicy Never."""
    states = [status["state"] for status in container_statuses]
    if not states or any("waiting" in state for state in states):
        return "Pending"
    if any("running" in state for state in states):
        return "Running"
    return "Succeeded" if all(state["terminated"]["exitCode"] == 0 for state in states) else "Failed"


def pod_conditions(phase, container_statuses, earlier):
    """The conditions the stand-in owns, after this observation; EARLIER (the conditions as last
    written) supplies the lastTransitionTime of a condition whose status did not change."""
    unready = [status["name"] for status in container_statuses if not status["ready"]]
    if phase in ("Succeeded", "Failed"):
        readiness = ("False", "PodCompleted", None)
    elif unready:
        readiness = ("False", "ContainersNotReady", f"containers with unready status: [{' '.join(unready)}]")
    else:
        readiness = ("True", None, None)
    wanted = {
        "PodScheduled": ("True", None, None),
        "Initialized": ("True", None, None),
        "ContainersReady": readiness,
        "Ready": readiness,
    }
    before = {condition["type"]: condition for condition in earlier or []}
    conditions = []
    for kind, (status, reason, message) in wanted.items():
        unchanged = before.get(kind, {}).get("status") == status and before[kind].get("lastTransitionTime")
        condition = {"type": kind, "status": status, "lastProbeTime": None,
                     "lastTransitionTime": before[kind]["lastTransitionTime"] if unchanged else rfc3339()}
        if reason:
            condition["reason"] = reason
        if message:
            condition["message"] = message
        conditions.append(condition)
    return conditions
