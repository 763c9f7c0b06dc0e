#!/usr/bin/python3
"""Runs kubetrain-operator against the fake API server through a job's life and writes the API
requests the operator made (the server's request log less this script's own requests).

The operator gets exactly the flags the chart renders into its Deployment (with the metrics
address moved to a free local port) plus --kubeconfig. The scenario plays the kubelet's part by
writing pod status: one job runs to success with ttlSecondsAfterFinished 0 (so the operator deletes
it), one loses a worker to OOMKilled (gang restart) and is then suspended, one has an invalid spec;
with --gang-schedulers, one job per gang scheduler restarts and is suspended too (the real PodGroup
CRDs of third_party/crds installed); with --kueue (Kueue's Workload and ResourceFlavor CRDs of
third_party/crds installed, a ResourceFlavor and a PriorityClass created), the script also plays
Kueue: one queued job is admitted, runs, is evicted, suspended and resumed, admitted again and
succeeds; one asks for more CPU while pending and again once admitted; another is deleted while it
waits for admission.
Each step waits a bounded time and goes on when the operator does not get there, because what is
checked is the set of requests made, not the outcome (the operator's own tests check outcomes).

Usage: drive_operator.py --fake-apiserver BIN --operator BIN --manifests RENDERED.yaml
                         --namespace NS --out REQUESTS.json [--step-seconds S]
"""
import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
import kueue_player  # noqa: E402
from kueue_player import QUEUE_NAME_LABEL, RESOURCE_IN_USE_FINALIZER, condition_of, pod_set_assignment  # noqa: E402

JOBS = "/apis/kubetrain.dev/v1alpha1/namespaces/{ns}/trainingjobs"
POD_GROUP_CRDS = {"volcano": "volcano/scheduling.volcano.sh_podgroups.yaml",
                  "coscheduling": "scheduler-plugins/scheduling.x-k8s.io_podgroups.yaml"}
PODS = "/api/v1/namespaces/{ns}/pods"
KUEUE_CRDS = ("kueue/kueue.x-k8s.io_workloads.yaml", "kueue/kueue.x-k8s.io_resourceflavors.yaml")
WORKLOADS = f"/apis/{kueue_player.GROUP}/{kueue_player.VERSION}/namespaces/{{ns}}/workloads"
RESOURCE_FLAVOR = {"apiVersion": "kueue.x-k8s.io/v1beta2", "kind": "ResourceFlavor",
                   "metadata": {"name": "rbac-flavor"},
                   "spec": {"nodeLabels": {"kubetrain.dev/rbac-pool": "a"},
                            "tolerations": [{"key": "kubetrain.dev/rbac-pool", "operator": "Exists",
                                             "effect": "NoSchedule"}]}}
PRIORITY_CLASS = {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                  "metadata": {"name": "rbac-high"}, "value": 1000}


class FakeApi:
    """HTTP to the fake API server, counting this script's own requests by (verb, path)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.own = collections.Counter()

    def call(self, method, path, body=None, query="", content_type="application/json"):
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb is None:
            verb = "get" if path.rstrip("/").split("/")[-1] not in ("pods", "trainingjobs", "workloads") else "list"
        if not path.startswith("/fake/"):
            self.own[(verb, path)] += 1
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path + query, data=data, method=method,
                                         headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def merge_patch(self, path, body):
        return self.call("PATCH", path, body, content_type="application/merge-patch+json")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def third_party_crd(relative):
    """A CRD of third_party/crds, as an object."""
    with open(os.path.join(REPO, "third_party/crds", relative), encoding="utf-8") as source:
        return next(document for document in yaml.safe_load_all(source) if document)


def pod_group_crd(scheduler):
    """The real PodGroup CRD of a gang scheduler (third_party/crds), as an object."""
    return third_party_crd(POD_GROUP_CRDS[scheduler])


def install_pod_group_crds(api, gang_schedulers):
    """The PodGroup CRD of each gang scheduler the operator manages."""
    for scheduler in gang_schedulers:
        api.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", pod_group_crd(scheduler))


def install_kueue(api):
    """Kueue's Workload and ResourceFlavor CRDs, a ResourceFlavor for the admissions and a
    PriorityClass for the queued jobs' pod template."""
    for relative in KUEUE_CRDS:
        api.call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", third_party_crd(relative))
    api.call("POST", "/apis/kueue.x-k8s.io/v1beta2/resourceflavors", RESOURCE_FLAVOR)
    api.call("POST", "/apis/scheduling.k8s.io/v1/priorityclasses", PRIORITY_CLASS)


def condition_status(workload, kind):
    return (condition_of(workload, kind) or {}).get("status")


def operator_args(manifests, kubeconfig, metrics_port):
    with open(manifests, encoding="utf-8") as stream:
        deployment = next(o for o in yaml.safe_load_all(stream) if o and o["kind"] == "Deployment")
    args = deployment["spec"]["template"]["spec"]["containers"][0]["args"]
    args = [f"--metrics-addr=127.0.0.1:{metrics_port}" if a.startswith("--metrics-addr") else a
            for a in args]
    return args + [f"--kubeconfig={kubeconfig}"]


def write_kubeconfig(folder, port, namespace):
    path = os.path.join(folder, "kubeconfig")
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
        "users": [{"name": "operator", "user": {"token": "fake-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "operator",
                                                  "namespace": namespace}}],
    }
    with open(path, "w", encoding="utf-8") as out:
        yaml.safe_dump(config, out)
    return path


def wait_for(what, predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    print(f"  (no {what} within {seconds} s; going on)")
    return None


def job_pods(api, ns, job, role):
    pods = api.call("GET", PODS.format(ns=ns), query=f"?labelSelector=kubetrain.dev/job-name%3D{job}")
    return [p for p in (pods or {}).get("items", []) if f"-{role}" in p["metadata"]["name"]]


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def set_running(api, ns, pod):
    containers = [c["name"] for c in pod["spec"]["containers"]]
    status = {
        "phase": "Running", "podIP": "10.0.0.10", "startTime": now(),
        "conditions": [{"type": t, "status": "True", "lastTransitionTime": now()}
                       for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [{"name": c, "ready": True, "restartCount": 0, "image": "worker",
                               "imageID": "", "state": {"running": {"startedAt": now()}}}
                              for c in containers],
    }
    api.merge_patch(f"{PODS.format(ns=ns)}/{pod['metadata']['name']}/status", {"status": status})


def set_terminated(api, ns, pod, exit_code, reason):
    containers = [c["name"] for c in pod["spec"]["containers"]]
    status = {
        "phase": "Succeeded" if exit_code == 0 else "Failed",
        "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now()}],
        "containerStatuses": [{"name": c, "ready": False, "restartCount": 0, "image": "worker",
                               "imageID": "", "state": {"terminated": {
                                   "exitCode": exit_code, "reason": reason,
                                   "startedAt": now(), "finishedAt": now()}}}
                              for c in containers],
    }
    api.merge_patch(f"{PODS.format(ns=ns)}/{pod['metadata']['name']}/status", {"status": status})


def training_job(ns, name, workers, batch, run_policy):
    return {
        "apiVersion": "kubetrain.dev/v1alpha1", "kind": "TrainingJob",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"workers": workers, "slotsPerWorker": 1, "image": "kubetrain-worker:0.1.0",
                 "training": {"model": "resnet20", "globalBatchSize": batch, "epochs": 1,
                              "data": {"dataset": "synthetic", "syntheticExamples": 64}},
                 "runPolicy": {"backoffLimit": 1, "startupDeadlineSeconds": 600,
                               "progressDeadlineSeconds": 1800, "cleanPodPolicy": "Running",
                               "suspend": False, **run_policy}},
    }


class Scenario:
    """The job lives the operator is taken through; each step waits at most `step_seconds`."""

    def __init__(self, api, namespace, step_seconds, gang_schedulers=(), kueue=False):
        self.api = api
        self.gang_schedulers = gang_schedulers
        self.kueue = kueue
        self.ns = namespace
        self.step_seconds = step_seconds
        self.jobs = JOBS.format(ns=namespace)

    def wait(self, what, predicate):
        return wait_for(what, predicate, self.step_seconds)

    def job(self, name):
        return self.api.call("GET", f"{self.jobs}/{name}")

    def pods(self, job, role):
        return job_pods(self.api, self.ns, job, role)

    def run_workers(self, job, workers, attempt=0):
        """Marks the job's worker pods of gang attempt `attempt` (status.restarts when the operator
        created them; its kubetrain.dev/attempt label) Running and Ready."""
        def current():
            pods = [p for p in self.pods(job, "worker")
                    if p["metadata"].get("labels", {}).get("kubetrain.dev/attempt", "0") == str(attempt)
                    and "deletionTimestamp" not in p["metadata"]]
            return len(pods) >= workers and pods
        pods = self.wait(f"{workers} worker pods of {job} (attempt {attempt})", current)
        for pod in pods or []:
            set_running(self.api, self.ns, pod)
        return pods or []

    def succeeds(self):
        print("job rbac-succeeds: runs, succeeds, is deleted after its TTL")
        self.api.call("POST", self.jobs, training_job(self.ns, "rbac-succeeds", 2, 64,
                                                      {"ttlSecondsAfterFinished": 0}))
        self.run_workers("rbac-succeeds", 2)
        launcher = self.wait("launcher of rbac-succeeds", lambda: self.pods("rbac-succeeds", "launcher"))
        if launcher:
            set_running(self.api, self.ns, launcher[0])
            set_terminated(self.api, self.ns, launcher[0], 0, "Completed")
            self.wait("deletion of rbac-succeeds", lambda: self.job("rbac-succeeds") is None)

    def restarts_then_suspends(self, name="rbac-restarts", run_policy=None):
        print(f"job {name}: a worker is OOMKilled (gang restart), then the job is suspended")
        self.api.call("POST", self.jobs, training_job(self.ns, name, 2, 64, run_policy or {}))
        pods = self.run_workers(name, 2)
        if pods:
            set_terminated(self.api, self.ns, pods[0], 137, "OOMKilled")
            self.wait(f"a restart of {name}",
                      lambda: (self.job(name) or {}).get("status", {}).get("restarts", 0) >= 1)
            self.run_workers(name, 2, attempt=1)
        self.api.merge_patch(f"{self.jobs}/{name}", {"spec": {"runPolicy": {"suspend": True}}})
        self.wait(f"the pods of {name} to go", lambda: not self.pods(name, "worker"))

    def invalid(self):
        print("job rbac-invalid: globalBatchSize 3 on 2 ranks")
        self.api.call("POST", self.jobs, training_job(self.ns, "rbac-invalid", 2, 3, {}))
        self.wait("InvalidSpec on rbac-invalid", lambda: any(
            c.get("reason") == "InvalidSpec"
            for c in (self.job("rbac-invalid") or {}).get("status", {}).get("conditions", [])))

    def queued_job(self, name):
        """A 2-worker job in the LocalQueue rbac-queue, its pods of the PriorityClass rbac-high; its
        Workload once the operator made it, or None."""
        job = training_job(self.ns, name, 2, 64, {})
        job["metadata"]["labels"] = {QUEUE_NAME_LABEL: "rbac-queue"}
        job["spec"]["template"] = {"spec": {"priorityClassName": PRIORITY_CLASS["metadata"]["name"]}}
        self.api.call("POST", self.jobs, job)
        return self.wait(f"the Workload of {name}", lambda: self.workload(name))

    def workload(self, job):
        """The Workload the operator created for the job (owned by it), or None."""
        workloads = self.api.call("GET", WORKLOADS.format(ns=self.ns)) or {}
        return next((w for w in workloads.get("items", [])
                     if any(o.get("kind") == "TrainingJob" and o.get("name") == job
                            for o in w["metadata"].get("ownerReferences", []))), None)

    def write_workload_status(self, workload):
        """Kueue's part: the Workload's status as the kueue_player function made it."""
        path = f"{WORKLOADS.format(ns=self.ns)}/{workload['metadata']['name']}/status"
        self.api.merge_patch(path, {"status": workload["status"]})

    def admit(self, job):
        """Kueue admits the job's Workload: the workers on the ResourceFlavor rbac-flavor."""
        workload = self.workload(job)
        if workload is None:
            return
        self.write_workload_status(kueue_player.admit(workload, "rbac-cluster-queue", [
            pod_set_assignment("workers", 2, RESOURCE_FLAVOR["metadata"]["name"], {"cpu": "2"}),
            {"name": "launcher", "count": 1, "flavors": {}}]))

    def admission_cleared(self, job):
        workload = self.workload(job)
        return workload is not None and "admission" not in workload.get("status", {})

    def attempt(self, job):
        return (self.job(job) or {}).get("status", {}).get("restarts", 0)

    def queued_runs_and_is_evicted(self):
        name = "rbac-kueue"
        print(f"job {name}: queued, admitted, evicted, suspended, resumed, admitted again, succeeds")
        if not self.queued_job(name):
            return
        self.admit(name)
        self.run_workers(name, 2)
        launcher = self.wait(f"launcher of {name}", lambda: self.pods(name, "launcher"))
        if launcher:
            set_running(self.api, self.ns, launcher[0])
            self.wait(f"PodsReady on the Workload of {name}",
                      lambda: condition_status(self.workload(name), "PodsReady") == "True")
        workload = self.workload(name)
        if workload is None:
            return
        self.write_workload_status(kueue_player.preempt(workload))
        self.wait(f"the pods of {name} to go",
                  lambda: not self.pods(name, "worker") and not self.pods(name, "launcher"))
        self.wait(f"the admission of {name} cleared", lambda: self.admission_cleared(name))
        self.api.merge_patch(f"{self.jobs}/{name}", {"spec": {"runPolicy": {"suspend": True}}})
        self.wait(f"the Workload of {name} deactivated",
                  lambda: (self.workload(name) or {}).get("spec", {}).get("active") is False)
        self.api.merge_patch(f"{self.jobs}/{name}", {"spec": {"runPolicy": {"suspend": False}}})
        self.wait(f"the Workload of {name} reactivated",
                  lambda: (self.workload(name) or {}).get("spec", {}).get("active") is True)
        self.admit(name)
        self.run_workers(name, 2, attempt=self.attempt(name))
        launcher = self.wait(f"launcher of {name}", lambda: self.pods(name, "launcher"))
        if launcher:
            set_running(self.api, self.ns, launcher[0])
            set_terminated(self.api, self.ns, launcher[0], 0, "Completed")
            self.wait(f"the Workload of {name} finished and released", lambda: (
                condition_status(self.workload(name), "Finished") == "True"
                and RESOURCE_IN_USE_FINALIZER not in self.workload(name)["metadata"].get("finalizers", [])))

    def workers_cpu(self, job):
        """The CPU request of the workers' podSet of the job's Workload, or None."""
        workload = self.workload(job) or {}
        for pod_set in workload.get("spec", {}).get("podSets", []):
            if pod_set["name"] == "workers":
                return pod_set["template"]["spec"]["containers"][0].get("resources", {}).get("requests", {}).get("cpu")
        return None

    def queued_job_changes_shape(self):
        name = "rbac-kueue-reshaped"
        print(f"job {name}: queued, its CPU request raised while pending (the Workload updated), admitted, "
              "raised again (the Workload replaced)")
        if not self.queued_job(name):
            return
        self.api.merge_patch(f"{self.jobs}/{name}", {"spec": {"resources": {"requests": {"cpu": "3"}}}})
        self.wait(f"the pending Workload of {name} updated", lambda: self.workers_cpu(name) == "3")
        self.admit(name)
        self.run_workers(name, 2)
        admitted = (self.workload(name) or {}).get("metadata", {}).get("uid")
        self.api.merge_patch(f"{self.jobs}/{name}", {"spec": {"resources": {"requests": {"cpu": "4"}}}})
        self.wait(f"the Workload of {name} replaced by one for 4 CPUs", lambda: (
            (w := self.workload(name)) and w["metadata"]["uid"] != admitted and self.workers_cpu(name) == "4"))

    def queued_then_deleted(self):
        name = "rbac-kueue-deleted"
        print(f"job {name}: queued, deleted before admission (its Workload's finalizer removed)")
        if not self.queued_job(name):
            return
        self.api.call("DELETE", f"{self.jobs}/{name}")
        self.wait(f"the Workload of {name} to go", lambda: self.workload(name) is None)

    def run(self):
        self.succeeds()
        self.restarts_then_suspends()
        self.invalid()
        for scheduler in self.gang_schedulers:  # its PodGroup created, replaced, deleted
            self.restarts_then_suspends(f"rbac-{scheduler}", {"schedulingPolicy": {"gangScheduler": scheduler}})
        if self.kueue:
            self.queued_runs_and_is_evicted()
            self.queued_job_changes_shape()
            self.queued_then_deleted()


def stop_processes(*processes):
    """SIGTERM to each process still running (None is skipped), SIGKILL after 10 s."""
    for process in processes:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def operator_requests(api):
    """The request log less this script's own requests."""
    own = collections.Counter(api.own)
    mine = []
    for entry in api.call("GET", "/fake/requests"):
        key = (entry["verb"], entry["path"])
        if own[key] > 0:
            own[key] -= 1
        else:
            mine.append(entry)
    return mine


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake-apiserver", required=True)
    parser.add_argument("--operator", required=True)
    parser.add_argument("--manifests", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--step-seconds", type=float, default=10,
                        help="how long each step waits for the operator")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        fake = subprocess.Popen([args.fake_apiserver, "--port", "0"], stdout=subprocess.PIPE, text=True)
        operator = None
        try:
            port = int(fake.stdout.readline())
            api = FakeApi(port)
            command = [args.operator] + operator_args(args.manifests,
                                                      write_kubeconfig(folder, port, args.namespace),
                                                      free_port())
            print("operator:", " ".join(command))
            gang = next((a.split("=", 1)[1].split(",") for a in command if a.startswith("--gang-schedulers=")), [])
            install_pod_group_crds(api, gang)
            kueue = "--kueue" in command
            if kueue:
                install_kueue(api)
            log = open(os.path.join(folder, "operator.log"), "w", encoding="utf-8")
            operator = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            Scenario(api, args.namespace, args.step_seconds, gang, kueue).run()
            if operator.poll() is not None:
                log.close()
                print(open(os.path.join(folder, "operator.log"), encoding="utf-8").read()[-4000:])
                print(f"FAIL: the operator exited with {operator.returncode}", file=sys.stderr)
                return 1
            with open(args.out, "w", encoding="utf-8") as out:
                json.dump(operator_requests(api), out, indent=1)
        finally:
            stop_processes(operator, fake)
    return 0


if __name__ == "__main__":
    sys.exit(main())
