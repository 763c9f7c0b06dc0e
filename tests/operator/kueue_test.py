#!/usr/bin/python3
"""kubetrain-operator queueing through Kueue, against the fake API server serving Kueue's real
Workload and ResourceFlavor CRDs (third_party/crds), through Debian's official Kubernetes client.
The test plays Kueue (it writes the Workload's status as Kueue's scheduler does: QuotaReserved,
Admitted, the admission's podSetAssignments, Evicted) and the kubelet (pod status, confirmed
deletions), and checks what the operator does:

- a queued job gets one Workload (Kueue's name, owner, job-uid label, finalizer, podSets workers
  and launcher, queueName, the PriorityClass's value) and no pod until it is admitted, while its
  Suspended condition carries Kueue's pending message;
- admitted, its pods carry the flavor's node labels and tolerations and the podset label, and the
  Workload's PodsReady follows the launcher;
- evicted (Preempted), its pods are deleted, and only once they are gone is the admission cleared
  (QuotaReserved False, Requeued True); admitted again, the gang starts anew, with no restart
  counted; finished, the Workload is Finished (Succeeded) and its finalizer removed;
- pending, the Workload follows the job's spec; admitted, a job that asks for more than its quota
  is stopped and its Workload replaced;
- a queued job deleted while waiting lets its Workload go (the finalizer removed), and the operator
  never reads a Secret (its API request counters).

  kueue_test.py FAKE_APISERVER OPERATOR
"""

import os
import sys
import unittest

import yaml
from kubernetes import client

from fake_cluster import HERE, main, wait_for
import kueue_player  # on the path fake_cluster set
from operator_counters import secret_reads
from kueue_player import RESOURCE_IN_USE_FINALIZER, condition, condition_of, pod_set_assignment, preempt, set_conditions

NAMESPACE = "queues"
KUEUE = (kueue_player.GROUP, kueue_player.VERSION)
CRDS = os.path.join(HERE, "..", "..", "third_party", "crds", "kueue")

cluster = core = custom = None


def training_job(name, workers=2):
    return {"apiVersion": "kubetrain.dev/v1alpha1", "kind": "TrainingJob",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"kueue.x-k8s.io/queue-name": "team-a"}},
            "spec": {"workers": workers, "slotsPerWorker": 1, "image": "kubetrain-worker:test",
                     "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": 1}},
                     "template": {"spec": {"priorityClassName": "research-high"}},
                     "training": {"globalBatchSize": 2 * workers},
                     "runPolicy": {"backoffLimit": 2}}}


def job(name):
    return cluster.job(name)


def job_condition(name, kind):
    return cluster.job_condition(name, kind)


def workloads(job_name):
    return custom.list_namespaced_custom_object(*KUEUE, NAMESPACE, "workloads",
                                                label_selector=f"kubetrain.dev/job-name={job_name}")["items"]


def write_status(workload):
    return custom.replace_namespaced_custom_object_status(*KUEUE, NAMESPACE, "workloads",
                                                          workload["metadata"]["name"], workload)


def admit(workload):
    """As Kueue's scheduler admits a Workload to ClusterQueue "gpus" on flavor "a100"."""
    return write_status(kueue_player.admit(workload, "gpus", [
        pod_set_assignment("workers", 2, "a100", {"cpu": "4", "memory": "2Gi", "nvidia.com/gpu": "2"}),
        pod_set_assignment("launcher", 1, "a100", {"cpu": "1", "memory": "1Gi"})]))


def patch_job(name, body):
    custom.patch_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", name, body)


def workers_cpu(workload):
    return workload["spec"]["podSets"][0]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"]


def pods(job_name, role=None):
    return cluster.pods(job_name, role)


def set_status(pod, phase, ready=False, terminated=None):
    cluster.set_status(pod, phase, ready, terminated)


def run_gang(job_name):
    workers = wait_for(f"{job_name}'s 2 workers", lambda: len(pods(job_name, "worker")) == 2 and pods(job_name, "worker"))
    for pod in workers:
        cluster.bind(pod)
        set_status(pod, "Running", ready=True)
    launcher = wait_for(f"{job_name}'s launcher", lambda: pods(job_name, "launcher"))[0]
    cluster.bind(launcher)
    set_status(launcher, "Running")
    return workers, launcher


class Kueue(unittest.TestCase):
    NAMESPACE = NAMESPACE

    def test_queued_job_through_admission_eviction_and_completion(self):
        custom.create_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", training_job("qj"))
        uid = job("qj")["metadata"]["uid"]
        workload = wait_for("qj's Workload", lambda: workloads("qj") and workloads("qj")[0])
        self.assertRegex(workload["metadata"]["name"], r"^trainingjob-qj-[0-9a-f]{5}$")
        owner = workload["metadata"]["ownerReferences"][0]
        self.assertEqual((owner["kind"], owner["uid"], owner["controller"]), ("TrainingJob", uid, True))
        self.assertEqual(workload["metadata"]["labels"]["kueue.x-k8s.io/job-uid"], uid)
        self.assertEqual(workload["metadata"]["finalizers"], [RESOURCE_IN_USE_FINALIZER])
        self.assertEqual(workload["spec"]["queueName"], "team-a")
        self.assertEqual(workload["spec"]["priority"], 1000)
        self.assertEqual(workload["spec"]["priorityClassRef"]["name"], "research-high")
        self.assertEqual([(p["name"], p["count"]) for p in workload["spec"]["podSets"]], [("workers", 2), ("launcher", 1)])

        # Kueue finds no quota: the job waits with Kueue's message and has no pods.
        set_conditions(workload, condition("QuotaReserved", "False", "Pending",
                                           "couldn't assign flavors to pod set workers: insufficient quota for nvidia.com/gpu"))
        workload = write_status(workload)
        waiting = wait_for("qj waiting with Kueue's message",
                           lambda: (c := job_condition("qj", "Suspended")) and "insufficient quota" in c["message"] and c)
        self.assertEqual((waiting["status"], waiting["reason"]), ("True", "WaitingForAdmission"))
        self.assertEqual(pods("qj"), [])

        workload = admit(workload)
        workers, launcher = run_gang("qj")
        for pod in workers + [launcher]:
            self.assertEqual(pod.spec.node_selector, {"cloud.example.com/gpu": "a100"})
            self.assertEqual([t.key for t in pod.spec.tolerations or []], ["nvidia.com/gpu"])
        self.assertEqual({p.metadata.labels["kueue.x-k8s.io/podset"] for p in workers}, {"workers"})
        self.assertEqual(launcher.metadata.labels["kueue.x-k8s.io/podset"], "launcher")
        admitted = job_condition("qj", "Suspended")
        self.assertEqual((admitted["status"], admitted["reason"]), ("False", "Admitted"))
        workload = wait_for("PodsReady True", lambda: (w := workloads("qj")[0])
                            and (condition_of(w, "PodsReady") or {}).get("status") == "True" and w)

        # Preempted: the pods go first, and only then is the quota given back.
        workload = write_status(preempt(workload))
        wait_for("every pod of qj marked for deletion",
                 lambda: pods("qj") and all(p.metadata.deletion_timestamp for p in pods("qj")))
        evicted = job_condition("qj", "Suspended")
        self.assertEqual((evicted["status"], evicted["reason"]), ("True", "Evicted"))
        self.assertIn("admission", workloads("qj")[0]["status"])  # pods remain: the quota is still held
        wait_for("qj's pods gone", lambda: cluster.confirm_deletions("qj"))
        workload = wait_for("the admission cleared", lambda: (w := workloads("qj")[0])
                            and "admission" not in w["status"] and w)
        self.assertEqual(condition_of(workload, "QuotaReserved")["status"], "False")
        self.assertEqual(condition_of(workload, "QuotaReserved")["reason"], "Pending")
        self.assertEqual(condition_of(workload, "Requeued")["status"], "True")
        self.assertEqual(condition_of(workload, "Admitted")["status"], "False")
        self.assertEqual(len(workloads("qj")), 1)

        # Admitted again: the gang starts anew (no restart counted) and runs to completion.
        workload = admit(workload)
        workers, launcher = run_gang("qj")
        self.assertEqual(job("qj")["status"]["restarts"], 0)
        set_status(launcher, "Succeeded", terminated=(0, "Completed"))
        wait_for("qj Succeeded", lambda: (c := job_condition("qj", "Succeeded")) and c["status"] == "True")
        workload = wait_for("the Workload Finished and let go", lambda: (w := workloads("qj")[0])
                            and not w["metadata"].get("finalizers") and w)
        finished = condition_of(workload, "Finished")
        self.assertEqual((finished["status"], finished["reason"]), ("True", "Succeeded"))
        self.assertEqual(secret_reads(cluster.metrics_port), [], "the operator must never read a Secret")

    def test_a_workload_follows_the_job_or_is_replaced_once_admitted(self):
        custom.create_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", training_job("grow"))
        pending = wait_for("grow's Workload", lambda: workloads("grow") and workloads("grow")[0])

        # Pending, the Workload takes the job's new CPU request (Kueue's updateWorkloadToMatchJob).
        patch_job("grow", {"spec": {"resources": {"requests": {"cpu": "3"}}}})
        updated = wait_for("the pending Workload updated", lambda: (w := workloads("grow")[0])
                           and workers_cpu(w) == "3" and w)
        self.assertEqual(updated["metadata"]["uid"], pending["metadata"]["uid"])

        # Admitted and running, the job asks for more than its quota: the pods stop, and the
        # Workload is replaced by one that Kueue must admit anew.
        admit(updated)
        run_gang("grow")
        patch_job("grow", {"spec": {"resources": {"requests": {"cpu": "4"}}}})
        wait_for("grow's pods marked for deletion", lambda: pods("grow") and all(p.metadata.deletion_timestamp for p in pods("grow")))
        stopped = job_condition("grow", "Suspended")
        self.assertEqual((stopped["status"], stopped["reason"]), ("True", "WorkloadOutOfDate"))
        wait_for("grow's pods gone", lambda: cluster.confirm_deletions("grow"))
        replaced = wait_for("the Workload replaced", lambda: (w := workloads("grow")) and
                            w[0]["metadata"]["uid"] != updated["metadata"]["uid"] and w[0])
        self.assertEqual(workers_cpu(replaced), "4")
        self.assertNotIn("admission", replaced.get("status", {}))
        self.assertEqual(pods("grow"), [])
        self.assertEqual(job("grow")["status"].get("restarts", 0), 0)

    def test_a_deleted_queued_job_lets_its_workload_go(self):
        custom.create_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", training_job("gone"))
        wait_for("gone's Workload", lambda: workloads("gone"))
        custom.delete_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", "gone")
        # Garbage collection marks the Workload; let go, it is removed.
        wait_for("the Workload let go", lambda: not (w := workloads("gone")) or not w[0]["metadata"].get("finalizers"))


def set_up(fake):
    global cluster, core, custom
    cluster, core, custom = fake, fake.core, fake.custom
    for name in ("kueue.x-k8s.io_workloads.yaml", "kueue.x-k8s.io_resourceflavors.yaml"):
        with open(os.path.join(CRDS, name), encoding="utf-8") as stream:
            cluster.install_crd(yaml.safe_load(stream))
    custom.create_cluster_custom_object(*KUEUE, "resourceflavors", {
        "apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor", "metadata": {"name": "a100"},
        "spec": {"nodeLabels": {"cloud.example.com/gpu": "a100"},
                 "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]}})
    client.SchedulingV1Api(cluster.api_client).create_priority_class(
        {"metadata": {"name": "research-high"}, "value": 1000, "description": "queued research jobs"})
    cluster.start_operator("--kueue")


if __name__ == "__main__":
    sys.exit(main(Kueue, set_up, __doc__))
