"""The harness of the operator-level tests: the fake API server and kubetrain-operator as
processes, Debian's official Kubernetes client on them, the test playing kube-scheduler and the
kubelet for the job's pods, and a main() that runs one unittest case and shows the operator's log
when it fails.

  TEST.py FAKE_APISERVER OPERATOR
"""

import os
import subprocess
import sys
import tempfile
import unittest

from kubernetes import client, config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "chart"), os.path.join(HERE, "..", "e2e")]
from drive_operator import free_port, now, stop_processes, write_kubeconfig  # noqa: E402
from e2e_wait import wait_for as shared_wait_for  # noqa: E402

NODE = "gpu-node-1"


def wait_for(what, predicate, timeout=20):
    return shared_wait_for(what, predicate, timeout, interval=0.1)


class FakeCluster:
    """The fake API server with one node, then the operator started on it with `flags`."""

    def __init__(self, fake_binary, operator_binary, namespace, work_dir):
        self.operator_binary = operator_binary
        self.namespace = namespace
        self.work_dir = work_dir
        self.operator = None
        self.metrics_port = free_port()
        self.fake_apiserver = subprocess.Popen([fake_binary, "--port", "0"], stdout=subprocess.PIPE, text=True)
        port = int(self.fake_apiserver.stdout.readline())
        self.kubeconfig = write_kubeconfig(work_dir, port, namespace)
        self.api_client = config.new_client_from_config(self.kubeconfig)
        self.core = client.CoreV1Api(self.api_client)
        self.custom = client.CustomObjectsApi(self.api_client)
        self.core.create_node({"metadata": {"name": NODE}})

    def install_crd(self, crd):
        client.ApiextensionsV1Api(self.api_client).create_custom_resource_definition(crd, _preload_content=False)

    def start_operator(self, *flags):
        log = open(os.path.join(self.work_dir, "operator.log"), "w", encoding="utf-8")
        self.operator = subprocess.Popen([self.operator_binary, f"--kubeconfig={self.kubeconfig}", *flags,
                                          f"--metrics-addr=127.0.0.1:{self.metrics_port}"],
                                         stdout=log, stderr=subprocess.STDOUT)

    def stop(self, print_log):
        stop_processes(self.operator, self.fake_apiserver)
        path = os.path.join(self.work_dir, "operator.log")
        if print_log and os.path.exists(path):
            with open(path, encoding="utf-8") as log:
                print("----- operator log -----\n" + log.read()[-6000:])

    def job(self, name):
        return self.custom.get_namespaced_custom_object("kubetrain.dev", "v1alpha1", self.namespace, "trainingjobs", name)

    def job_condition(self, name, kind):
        """The TrainingJob's condition of type KIND, or None."""
        for entry in self.job(name).get("status", {}).get("conditions", []):
            if entry["type"] == kind:
                return entry
        return None

    def pods(self, job_name, role=None, attempt=None):
        selector = f"kubetrain.dev/job-name={job_name}"
        if role:
            selector += f",kubetrain.dev/role={role}"
        if attempt is not None:
            selector += f",kubetrain.dev/attempt={attempt}"
        return self.core.list_namespaced_pod(self.namespace, label_selector=selector).items

    def bind(self, pod):
        """As kube-scheduler binds a pod: POST pods/NAME/binding. A bound pod is deleted gracefully."""
        body = client.V1Binding(metadata=client.V1ObjectMeta(name=pod.metadata.name),
                                target=client.V1ObjectReference(kind="Node", name=NODE))
        # The answer is a Status, which the client cannot read as a Binding.
        self.core.create_namespaced_pod_binding(pod.metadata.name, self.namespace, body, _preload_content=False)

    def set_status(self, pod, phase, ready=False, terminated=None):
        """As the kubelet reports a pod: running, or terminated with (exit code, reason)."""
        state = {"terminated": {"exitCode": terminated[0], "reason": terminated[1], "startedAt": now(),
                                "finishedAt": now()}} if terminated else {"running": {"startedAt": now()}}
        status = {"phase": phase, "podIP": "127.0.0.1",
                  "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                  "lastTransitionTime": now()}],
                  "containerStatuses": [{"name": c.name, "ready": ready, "restartCount": 0, "image": c.image,
                                         "imageID": "", "state": state} for c in pod.spec.containers]}
        # A JSON patch: the client sends a dict as a strategic merge patch, which the fake does not speak.
        self.core.patch_namespaced_pod_status(pod.metadata.name, self.namespace,
                                              [{"op": "add", "path": "/status", "value": status}])

    def confirm_deletions(self, job_name, attempt=None):
        """Confirms, as a kubelet does once the containers stopped, the graceful deletion of each pod
        (of `attempt`, or any) that the operator deleted; true once none of them is left."""
        for pod in self.pods(job_name, attempt=attempt):
            if pod.metadata.deletion_timestamp:
                self.core.delete_namespaced_pod(pod.metadata.name, self.namespace, grace_period_seconds=0)
        return not self.pods(job_name, attempt=attempt)


def main(test_case, set_up, doc):
    """Runs `test_case` on a FakeCluster made from the command line and given to `set_up`."""
    if len(sys.argv) != 3:
        print(doc.strip().splitlines()[-1], file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as work_dir:
        cluster = None
        passed = False
        try:
            cluster = FakeCluster(*sys.argv[1:], test_case.NAMESPACE, work_dir)
            set_up(cluster)
            suite = unittest.defaultTestLoader.loadTestsFromTestCase(test_case)
            passed = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
        finally:
            if cluster is not None:
                cluster.stop(print_log=not passed)
    return 0 if passed else 1
