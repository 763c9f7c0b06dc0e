#!/usr/bin/python3
"""Runs kubetrain-operator against the fake API server through a job's life and writes the API
requests the operator made (the server's request log less this script's own requests).

The operator gets exactly the flags the chart renders into its Deployment (with the metrics
address moved to a free local port) plus --kubeconfig. The scenario plays the kubelet's part by
writing pod status: one job runs to success with ttlSecondsAfterFinished 0 (so the operator deletes
it), one loses a worker to OOMKilled (gang restart) and is then suspended, one has an invalid spec.
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

JOBS = "/apis/kubetrain.dev/v1alpha1/namespaces/{ns}/trainingjobs"
PODS = "/api/v1/namespaces/{ns}/pods"


class FakeApi:
    """HTTP to the fake API server, counting this script's own requests by (verb, path)."""

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.own = collections.Counter()

    def call(self, method, path, body=None, query="", content_type="application/json"):
        verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb is None:
            verb = "get" if path.rstrip("/").split("/")[-1] not in ("pods", "trainingjobs") else "list"
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

    def __init__(self, api, namespace, step_seconds):
        self.api = api
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

    def restarts_then_suspends(self):
        print("job rbac-restarts: a worker is OOMKilled (gang restart), then the job is suspended")
        self.api.call("POST", self.jobs, training_job(self.ns, "rbac-restarts", 2, 64, {}))
        pods = self.run_workers("rbac-restarts", 2)
        if pods:
            set_terminated(self.api, self.ns, pods[0], 137, "OOMKilled")
            self.wait("a restart of rbac-restarts",
                      lambda: (self.job("rbac-restarts") or {}).get("status", {}).get("restarts", 0) >= 1)
            self.run_workers("rbac-restarts", 2, attempt=1)
        self.api.merge_patch(f"{self.jobs}/rbac-restarts", {"spec": {"runPolicy": {"suspend": True}}})
        self.wait("the pods of rbac-restarts to go", lambda: not self.pods("rbac-restarts", "worker"))

    def invalid(self):
        print("job rbac-invalid: globalBatchSize 3 on 2 ranks")
        self.api.call("POST", self.jobs, training_job(self.ns, "rbac-invalid", 2, 3, {}))
        self.wait("InvalidSpec on rbac-invalid", lambda: any(
            c.get("reason") == "InvalidSpec"
            for c in (self.job("rbac-invalid") or {}).get("status", {}).get("conditions", [])))

    def run(self):
        self.succeeds()
        self.restarts_then_suspends()
        self.invalid()


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
            log = open(os.path.join(folder, "operator.log"), "w", encoding="utf-8")
            operator = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
            Scenario(api, args.namespace, args.step_seconds).run()
            if operator.poll() is not None:
                log.close()
                print(open(os.path.join(folder, "operator.log"), encoding="utf-8").read()[-4000:])
                print(f"FAIL: the operator exited with {operator.returncode}", file=sys.stderr)
                return 1
            with open(args.out, "w", encoding="utf-8") as out:
                json.dump(operator_requests(api), out, indent=1)
        finally:
            for process in (operator, fake):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
