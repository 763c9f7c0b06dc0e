#!/usr/bin/python3
"""kubetrain-operator's gang scheduling against the fake API server serving the real PodGroup CRDs
of Volcano and scheduler-plugins (third_party/crds), through Debian's official Kubernetes client.
The test plays the gang scheduler (it writes the PodGroup's status and binds the pods through
pods/binding) and the kubelet (it writes pod status), and checks what the operator does:

- a Volcano job: its PodGroup (minMember, minResources, queue, owner, attempt) exists before its
  pods, which carry schedulerName and the group annotation; while the PodGroup is Inqueue and
  Unschedulable the job's GangScheduled condition says so; bound and Ready, the launcher follows
  with the same scheduler and group; a worker's failure (gang restart) replaces the PodGroup with
  attempt 1's before attempt 1's pods; suspension deletes it;
- a coscheduling job: its PodGroup (scheduleTimeoutSeconds), the pod-group label and the
  scheduler-plugins scheduler on its pods; completion deletes the PodGroup.

  gang_scheduling_test.py FAKE_APISERVER OPERATOR
"""

import sys
import unittest

from kubernetes import client

from fake_cluster import main, wait_for
from drive_operator import POD_GROUP_CRDS, now, pod_group_crd  # on the path fake_cluster set

NAMESPACE = "gangs"
VOLCANO = ("scheduling.volcano.sh", "v1beta1")
COSCHEDULING = ("scheduling.x-k8s.io", "v1alpha1")

cluster = core = custom = None


def training_job(name, scheduling_policy, workers=2):
    return {"apiVersion": "kubetrain.dev/v1alpha1", "kind": "TrainingJob",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {"workers": workers, "slotsPerWorker": 1, "image": "kubetrain-worker:test",
                     "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"nvidia.com/gpu": 1}},
                     "training": {"globalBatchSize": 2 * workers},
                     "runPolicy": {"schedulingPolicy": scheduling_policy, "backoffLimit": 2}}}


def job(name):
    return cluster.job(name)


def condition(name, kind):
    return cluster.job_condition(name, kind)


def pod_group(group_version, name):
    try:
        return custom.get_namespaced_custom_object(*group_version, NAMESPACE, "podgroups", name)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise


def pods(job_name, role=None, attempt=None):
    return cluster.pods(job_name, role, attempt)


def set_status(pod, phase, ready=False, terminated=None):
    cluster.set_status(pod, phase, ready, terminated)


def place_and_ready(job_name, workers, attempt):
    running = wait_for(f"{workers} workers of {job_name} attempt {attempt}",
                       lambda: len(pods(job_name, "worker", attempt)) == workers and pods(job_name, "worker", attempt))
    for pod in running:
        cluster.bind(pod)
        set_status(pod, "Running", ready=True)


class GangScheduling(unittest.TestCase):
    NAMESPACE = NAMESPACE

    def test_volcano_gang_through_wait_restart_and_suspension(self):
        custom.create_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs",
                                               training_job("vj", {"gangScheduler": "volcano", "queue": "research"}))
        uid = job("vj")["metadata"]["uid"]
        group = wait_for("vj's PodGroup", lambda: pod_group(VOLCANO, "vj"))
        self.assertEqual(group["spec"]["minMember"], 2)
        self.assertEqual(group["spec"]["queue"], "research")
        self.assertEqual(group["spec"]["minResources"], {"cpu": "4", "memory": "2Gi", "nvidia.com/gpu": "2"})
        owner = group["metadata"]["ownerReferences"][0]
        self.assertEqual((owner["kind"], owner["uid"], owner["controller"]), ("TrainingJob", uid, True))
        self.assertEqual(group["metadata"]["labels"]["kubetrain.dev/attempt"], "0")

        workers = wait_for("vj's workers", lambda: len(pods("vj", "worker")) == 2 and pods("vj", "worker"))
        for pod in workers:
            self.assertEqual(pod.spec.scheduler_name, "volcano")
            self.assertEqual(pod.metadata.annotations["scheduling.k8s.io/group-name"], "vj")
            # Created after their PodGroup: a later resourceVersion.
            self.assertGreater(int(pod.metadata.resource_version), int(group["metadata"]["resourceVersion"]))

        # Volcano keeps the gang queued: the job says so, and no startup deadline runs out.
        group["status"] = {"phase": "Inqueue", "conditions": [
            {"type": "Unschedulable", "status": "True", "reason": "NotEnoughResources",
             "message": "2/2 tasks in gang unschedulable: pod group is not ready, 2 minAvailable",
             "lastTransitionTime": now()}]}
        custom.replace_namespaced_custom_object(*VOLCANO, NAMESPACE, "podgroups", "vj", group)
        waiting = wait_for("GangScheduled False with Volcano's reason",
                           lambda: (c := condition("vj", "GangScheduled")) and c["reason"] == "NotEnoughResources" and c)
        self.assertEqual(waiting["status"], "False")
        self.assertIn("is Inqueue: 2/2 tasks in gang unschedulable", waiting["message"])

        place_and_ready("vj", 2, 0)
        wait_for("GangScheduled True", lambda: (c := condition("vj", "GangScheduled")) and c["status"] == "True")
        launcher = wait_for("vj's launcher", lambda: pods("vj", "launcher"))[0]
        self.assertEqual(launcher.spec.scheduler_name, "volcano")
        self.assertEqual(launcher.metadata.annotations["scheduling.k8s.io/group-name"], "vj")
        set_status(launcher, "Running")
        wait_for("vj Running", lambda: (c := condition("vj", "Running")) and c["status"] == "True")

        # A worker dies: the gang restarts under a new PodGroup, made before the new pods.
        set_status(pods("vj", "worker")[1], "Failed", terminated=(137, "OOMKilled"))
        first_uid = group["metadata"]["uid"]
        renewed = wait_for("attempt 1's PodGroup", lambda: (g := pod_group(VOLCANO, "vj"))
                           and g["metadata"]["labels"]["kubetrain.dev/attempt"] == "1" and g)
        self.assertNotEqual(renewed["metadata"]["uid"], first_uid)
        self.assertEqual(job("vj")["status"]["restarts"], 1)
        wait_for("attempt 0's pods to go", lambda: cluster.confirm_deletions("vj", 0))
        new_workers = wait_for("attempt 1's workers", lambda: len(pods("vj", "worker", 1)) == 2 and pods("vj", "worker", 1))
        for pod in new_workers:
            self.assertGreater(int(pod.metadata.resource_version), int(renewed["metadata"]["resourceVersion"]))

        custom.patch_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs", "vj",
                                              {"spec": {"runPolicy": {"suspend": True}}})
        wait_for("the PodGroup deleted on suspension", lambda: pod_group(VOLCANO, "vj") is None)
        wait_for("Suspended", lambda: (c := condition("vj", "Suspended")) and c["status"] == "True")

    def test_coscheduling_gang_to_completion(self):
        custom.create_namespaced_custom_object("kubetrain.dev", "v1alpha1", NAMESPACE, "trainingjobs",
                                               training_job("cj", {"gangScheduler": "coscheduling",
                                                                   "scheduleTimeoutSeconds": 30}, workers=3))
        group = wait_for("cj's PodGroup", lambda: pod_group(COSCHEDULING, "cj"))
        self.assertEqual(group["apiVersion"], "scheduling.x-k8s.io/v1alpha1")
        self.assertEqual(group["spec"]["minMember"], 3)
        self.assertEqual(group["spec"]["scheduleTimeoutSeconds"], 30)
        self.assertNotIn("queue", group["spec"])
        self.assertIsNone(pod_group(VOLCANO, "cj"))
        workers = wait_for("cj's workers", lambda: len(pods("cj", "worker")) == 3 and pods("cj", "worker"))
        for pod in workers:
            self.assertEqual(pod.spec.scheduler_name, "scheduler-plugins-scheduler")
            self.assertEqual(pod.metadata.labels["scheduling.x-k8s.io/pod-group"], "cj")
        place_and_ready("cj", 3, 0)
        launcher = wait_for("cj's launcher", lambda: pods("cj", "launcher"))[0]
        self.assertEqual(launcher.metadata.labels["scheduling.x-k8s.io/pod-group"], "cj")
        set_status(launcher, "Succeeded", terminated=(0, "Completed"))
        wait_for("cj Succeeded", lambda: (c := condition("cj", "Succeeded")) and c["status"] == "True")
        wait_for("the PodGroup deleted on completion", lambda: pod_group(COSCHEDULING, "cj") is None)


def set_up(fake):
    global cluster, core, custom
    cluster, core, custom = fake, fake.core, fake.custom
    for scheduler in POD_GROUP_CRDS:
        cluster.install_crd(pod_group_crd(scheduler))
    cluster.start_operator("--gang-schedulers=volcano,coscheduling")


if __name__ == "__main__":
    sys.exit(main(GangScheduling, set_up, __doc__))
