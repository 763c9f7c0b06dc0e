"""Kueue's part, for tests that run the operator with --kueue and no Kueue: the status Kueue's
scheduler writes on a Workload to admit it and to evict it. Pure functions on Workload documents
(the caller writes the status back, with a client of its choice), following Kueue's v1beta2 API:
each condition replaces the one of its type, as Kueue's meta.SetStatusCondition does."""

import datetime

GROUP, VERSION = "kueue.x-k8s.io", "v1beta2"
QUEUE_NAME_LABEL = "kueue.x-k8s.io/queue-name"
RESOURCE_IN_USE_FINALIZER = "kueue.x-k8s.io/resource-in-use"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def condition(kind, status, reason, message=""):
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": now(), "observedGeneration": 1}


def condition_of(workload, kind):
    """The Workload's condition of type KIND, or None."""
    for entry in (workload or {}).get("status", {}).get("conditions", []):
        if entry.get("type") == kind:
            return entry
    return None


def set_conditions(workload, *conditions):
    kinds = {entry["type"] for entry in conditions}
    kept = [entry for entry in workload.get("status", {}).get("conditions", []) if entry["type"] not in kinds]
    workload.setdefault("status", {})["conditions"] = kept + list(conditions)
    return workload


def pod_set_assignment(name, count, flavor, resources):
    """The assignment of podSet NAME: each of RESOURCES (name -> total quantity) on FLAVOR."""
    return {"name": name, "count": count, "flavors": {resource: flavor for resource in resources},
            "resourceUsage": dict(resources)}


def admit(workload, cluster_queue, assignments):
    """WORKLOAD admitted to CLUSTER_QUEUE with the given pod set assignments; after an eviction
    this also ends the Evicted condition, as Kueue does on re-admission."""
    workload.setdefault("status", {})["admission"] = {"clusterQueue": cluster_queue,
                                                      "podSetAssignments": assignments}
    conditions = [
        condition("QuotaReserved", "True", "QuotaReserved", f"Quota reserved in ClusterQueue {cluster_queue}"),
        condition("Admitted", "True", "Admitted", "The workload is admitted")]
    evicted = condition_of(workload, "Evicted")
    if evicted and evicted["status"] == "True":
        conditions.append(condition("Evicted", "False", "QuotaReserved", f"Previously: {evicted['reason']}"))
    return set_conditions(workload, *conditions)


def preempt(workload):
    """WORKLOAD evicted by preemption: the job must stop its pods before Kueue takes the quota back."""
    message = "Preempted to accommodate a workload of higher priority"
    return set_conditions(workload, condition("Evicted", "True", "Preempted", message),
                          condition("Preempted", "True", "InClusterQueue", message))
