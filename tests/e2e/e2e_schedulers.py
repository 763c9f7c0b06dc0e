"""The schedulers a shared cluster adds, played by the scenarios (none runs here): Kueue's
scheduler admitting and preempting one job's Workload, and Volcano placing gangs of pods."""

import threading

from kubernetes import client
from kubernetes.client.rest import ApiException

from e2e_cluster import NODE_NAME
import kueue_player
from kueue_player import condition_of, now, pod_set_assignment

VOLCANO = ("scheduling.volcano.sh", "v1beta1")
VOLCANO_SCHEDULER = "volcano"
VOLCANO_GROUP_ANNOTATION = "scheduling.k8s.io/group-name"


class KueueForJob:
    """Kueue's part for one job: its Workload, admitted to a ClusterQueue on the cluster's flavor,
    preempted."""

    CLUSTER_QUEUE = "e2e-cluster-queue"

    def __init__(self, cluster, job):
        self.cluster, self.job = cluster, job

    def workload(self):
        """The job's Workload (the operator makes one per job), or None."""
        found = self.cluster.custom.list_namespaced_custom_object(
            kueue_player.GROUP, kueue_player.VERSION, self.cluster.namespace, "workloads",
            label_selector=f"kubetrain.dev/job-name={self.job}")["items"]
        assert len(found) <= 1, f"{len(found)} Workloads for {self.job}"
        return found[0] if found else None

    def condition(self, kind):
        return condition_of(self.workload(), kind) or {}

    def _write_status(self, workload):
        self.cluster.custom.replace_namespaced_custom_object_status(
            kueue_player.GROUP, kueue_player.VERSION, self.cluster.namespace, "workloads",
            workload["metadata"]["name"], workload)

    def admit(self):
        flavor = self.cluster.flavor
        self._write_status(kueue_player.admit(self.workload(), self.CLUSTER_QUEUE, [
            pod_set_assignment("workers", 2, flavor, {"cpu": "1", "memory": "2Gi"}),
            pod_set_assignment("launcher", 1, flavor, {"cpu": "500m", "memory": "1Gi"})]))

    def preempt(self):
        self._write_status(kueue_player.preempt(self.workload()))


class Volcano:
    """Volcano's scheduler for the cluster's one node, on a thread of its own: a PodGroup's pods are
    bound (pods/binding, as any scheduler binds) only once minMember of them wait together, and the
    PodGroup's phase then turns Running; a pod that joins a running gang (the launcher) is bound at
    once. While `holding`, every gang waits, its PodGroup Inqueue and Unschedulable."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.holding = True
        self.bound = []  # names of the pods it bound, in order
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="volcano", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exception):
        self._stop.set()
        self._thread.join(timeout=10)

    def pod_group(self, name):
        try:
            return self.cluster.custom.get_namespaced_custom_object(*VOLCANO, self.cluster.namespace, "podgroups", name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def _run(self):
        while not self._stop.wait(0.5):
            try:
                self._schedule()
            except ApiException:  # a conflict or a pod that went meanwhile: look again
                pass

    def _schedule(self):
        waiting = {}
        for pod in self.cluster.core.list_namespaced_pod(self.cluster.namespace).items:
            if (pod.spec.scheduler_name == VOLCANO_SCHEDULER and not pod.spec.node_name
                    and not pod.metadata.deletion_timestamp):
                group = (pod.metadata.annotations or {}).get(VOLCANO_GROUP_ANNOTATION)
                waiting.setdefault(group, []).append(pod)
        for group_name, pods in waiting.items():
            group = self.pod_group(group_name) if group_name else None
            if group is None:
                continue
            running = (group.get("status") or {}).get("phase") == "Running"
            if self.holding:
                self._set_phase(group, "Inqueue", unschedulable=f"{len(pods)}/{len(pods)} tasks in gang "
                                "unschedulable: pod group is not ready, held by the e2e scenario")
            elif running or len(pods) >= group["spec"].get("minMember", 1):
                for pod in pods:
                    self._bind(pod)
                if not running:
                    self._set_phase(group, "Running")

    def _bind(self, pod):
        body = client.V1Binding(metadata=client.V1ObjectMeta(name=pod.metadata.name),
                                target=client.V1ObjectReference(kind="Node", name=NODE_NAME))
        # The answer is a Status, which the client cannot read as a Binding.
        self.cluster.core.create_namespaced_pod_binding(pod.metadata.name, self.cluster.namespace, body,
                                                        _preload_content=False)
        self.bound.append(pod.metadata.name)

    def _set_phase(self, group, phase, unschedulable=None):
        if (group.get("status") or {}).get("phase") == phase:
            return
        group["status"] = {"phase": phase, "conditions": []}
        if unschedulable:
            group["status"]["conditions"] = [{"type": "Unschedulable", "status": "True", "reason": "NotEnoughResources",
                                              "message": unschedulable, "lastTransitionTime": now()}]
        self.cluster.custom.replace_namespaced_custom_object(*VOLCANO, self.cluster.namespace, "podgroups",
                                                             group["metadata"]["name"], group)
