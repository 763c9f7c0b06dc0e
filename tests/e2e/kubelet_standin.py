#!/usr/bin/python3
"""A kubelet, and the kube-scheduler's part of binding pods, for one namespace on one machine:
pods run as podman pods and containers, so that the operator's pods really run.

  kubelet_standin.py --kubeconfig FILE --namespace NS --node NODE --network PODMAN_NETWORK \\
                     --state-dir DIR [--cluster-domain cluster.local] [--node-label KEY=VALUE ...]

It registers the Node NODE and keeps its Ready condition's heartbeat fresh; binds the namespace's
pending pods that fit the node; runs the pods bound to it on the podman network (where pods
resolve each other as HOSTNAME.SUBDOMAIN[.NS.svc.CLUSTER_DOMAIN]); writes their status as a
kubelet does; and stops them on deletion. Container logs are kept in DIR/logs as
NS_POD_CONTAINER.POD_UID.log. Containers are labelled as CRI runtimes label them:
io.kubernetes.pod.namespace, io.kubernetes.pod.name, io.kubernetes.pod.uid and
io.kubernetes.container.name; a pod's sandbox (a podman pod) has the namespace and uid labels.

Runs until SIGTERM or SIGINT, then removes every container and podman pod it made and deletes
its Node. Needs root and podman (with catatonit, for the podman pods' infra containers); an API
server at any version, the real kube-apiserver or the project's fake. Logs to stderr.
"""

import argparse
import logging
import os
import signal
import sys
import threading
import time

from kubernetes.client.rest import ApiException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from standin_api import KubeApi, describe, is_transient  # noqa: E402
from standin_errors import PodmanError  # noqa: E402
from standin_monitor import ContainerMonitor  # noqa: E402
from standin_node import HEARTBEAT_SECONDS, node_labels, node_status  # noqa: E402
from standin_oom import OomWatch  # noqa: E402
from standin_pod_status import rfc3339  # noqa: E402
from standin_pod_worker import PodContext, PodWorker  # noqa: E402
from standin_podman import Podman  # noqa: E402
from standin_scheduler import Scheduler  # noqa: E402
from standin_volumes import tear_down_volumes  # noqa: E402

# The suite's podman configuration, beside this file, unless the caller chose one.
os.environ.setdefault("CONTAINERS_CONF", os.path.join(os.path.dirname(os.path.abspath(__file__)), "containers.conf"))

WATCH_TIMEOUT_SECONDS = 60  # the API server ends each watch by then; it is taken up again
SHUTDOWN_JOIN_SECONDS = 30
_RETRY_CAP_SECONDS = 30

log = logging.getLogger("kubelet-standin").info


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True, help="the namespace whose pods it schedules and runs")
    parser.add_argument("--node", required=True, help="the Node's name")
    parser.add_argument("--network", required=True, help="the podman network the pods join (it must exist)")
    parser.add_argument("--state-dir", required=True, help="volumes and container logs go below it")
    parser.add_argument("--cluster-domain", default="cluster.local")
    parser.add_argument("--node-label", action="append", default=[], metavar="KEY=VALUE",
                        help="a label for the Node (repeatable)")
    arguments = parser.parse_args(argv)
    labels = {}
    for label in arguments.node_label:
        key, equals, value = label.partition("=")
        if not equals or not key:
            parser.error(f"--node-label wants KEY=VALUE, not {label!r}")
        labels[key] = value
    arguments.node_labels = labels
    arguments.state_dir = os.path.abspath(arguments.state_dir)
    return arguments


class KubeletStandIn:
    def __init__(self, arguments):
        self.node = arguments.node
        self.namespace = arguments.namespace
        self.labels = node_labels(arguments.node, arguments.node_labels)
        self.stopping = threading.Event()
        self.api = KubeApi(arguments.kubeconfig, arguments.namespace)
        self.state_dir = arguments.state_dir
        os.makedirs(self.state_dir, exist_ok=True)
        self.podman = Podman(arguments.node, arguments.namespace, self.state_dir)
        self.network = arguments.network
        self.cluster_domain = arguments.cluster_domain
        self._workers = {}  # pod uid -> PodWorker
        self._finished_uids = set()  # pods whose worker is done: later events about them are late news
        self._lock = threading.Lock()
        self._ready_since = rfc3339()

    # --- start and stop ----------------------------------------------------------------------------

    def run(self):
        """Runs until stop(); whatever it started is removed before it returns."""
        self._remove_leftovers()
        os.makedirs(os.path.join(self.state_dir, "logs"), exist_ok=True)
        self.host_ip = self.podman.network_gateway(self.network)
        self.runtime_version = self.podman.run("version", "--format", "{{.Client.Version}}").strip()
        try:
            if not self._register_node():
                return
            self.scheduler = Scheduler(self.api, self.node, self.labels,
                                       self._node_status()["allocatable"], self.stopping, log)
            self.context = PodContext(
                api=self.api, podman=self.podman,
                monitor=ContainerMonitor(self.podman, self.stopping, self._wake_workers, log),
                oom_watch=OomWatch(self.stopping), node_name=self.node, network=self.network,
                host_ip=self.host_ip, cluster_domain=self.cluster_domain, state_dir=self.state_dir,
                stopping=self.stopping, log=log)
            threading.Thread(target=self._heartbeat, name="heartbeat", daemon=True).start()
            threading.Thread(target=self._watch_pods, name="pod-watch", daemon=True).start()
            log(f"node {self.node} runs the pods of namespace {self.namespace} on podman network "
                f"{self.network} (host IP {self.host_ip})")
            self.stopping.wait()
        finally:
            self.stopping.set()
            self._shut_down()

    def stop(self, signum=None, frame=None):
        self.stopping.set()

    def _shut_down(self):
        log("stopping: killing and removing every pod's containers")
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.wake()
        deadline = time.monotonic() + SHUTDOWN_JOIN_SECONDS
        for worker in workers:  # they stop side by side
            worker.join(max(0.0, deadline - time.monotonic()))
        self._remove_leftovers()
        try:
            self.api.delete_node(self.node)
            log(f"deleted node {self.node}")
        except Exception as error:  # the API server may be gone first
            log(f"deleting node {self.node} failed: {describe(error)}")

    def _remove_leftovers(self):
        """Removes the podman pods and containers labelled with this node, and the pods' volumes:
        a stand-in killed before its time leaves them, and so may a pod worker that failed."""
        try:
            for sandbox in self.podman.owned_sandboxes():
                log(f"removing podman pod {sandbox}")
                self.podman.remove_sandbox(sandbox, 0)
            for container in self.podman.owned_containers():
                self.podman.run("rm", "--force", "--time", "0", container["Id"])
        except PodmanError as error:
            log(f"removing what an earlier stand-in left failed: {error}")
        tear_down_volumes(os.path.join(self.state_dir, "pods"))

    # --- the node ----------------------------------------------------------------------------------

    def _register_node(self):
        """Creates (or takes over) the Node and writes its status; False when stopped first."""
        delay = 1
        while not self.stopping.is_set():
            try:
                self.api.register_node(self.node, self.labels)
                self._ready_since = rfc3339()
                self.api.write_node_status(self.node, self._node_status())
                log(f"registered node {self.node} (labels {self.labels})")
                return True
            except Exception as error:
                if not is_transient(error):
                    raise
                log(f"registering node {self.node} failed ({describe(error)}); retrying in {delay} s")
                self.stopping.wait(delay)
                delay = min(2 * delay, _RETRY_CAP_SECONDS)
        return False

    def _node_status(self):
        return node_status(self.node, self.host_ip, self._ready_since, self.runtime_version)

    def _heartbeat(self):
        failing = False
        while not self.stopping.wait(HEARTBEAT_SECONDS):
            try:
                self.api.write_node_status(self.node, self._node_status())
                failing = False
            except Exception as error:
                if not failing:
                    log(f"node heartbeat failed: {describe(error)}")
                failing = True
                if isinstance(error, ApiException) and error.status == 404:
                    self._register_node()  # someone deleted the Node: register it again

    # --- pods --------------------------------------------------------------------------------------

    def _watch_pods(self):
        """List, then watch from the list's resourceVersion; list again when the watch's version
        expired (410 Gone) or the watch broke, as an informer does."""
        delay = 1
        while not self.stopping.is_set():
            try:
                pods, version = self.api.list_pods()
                self._reconcile(pods)
                delay = 1
                while not self.stopping.is_set():
                    for kind, pod in self.api.watch_pods(version, WATCH_TIMEOUT_SECONDS):
                        if self.stopping.is_set():
                            return
                        version = pod["metadata"].get("resourceVersion") or version
                        if kind in ("ADDED", "MODIFIED"):
                            self._pod_changed(pod)
                        elif kind == "DELETED":
                            self._pod_deleted(pod)
            except ApiException as error:
                if error.status == 410:
                    log("the pod watch expired (410 Gone); listing again")
                    continue
                self._watch_failed(error, delay)
                delay = min(2 * delay, _RETRY_CAP_SECONDS)
            except Exception as error:  # a dropped connection, or a broken line from one
                self._watch_failed(error, delay)
                delay = min(2 * delay, _RETRY_CAP_SECONDS)

    def _watch_failed(self, error, delay):
        if not self.stopping.is_set():
            log(f"the pod watch failed ({describe(error)}); listing again in {delay} s")
            self.stopping.wait(delay)

    def _reconcile(self, pods):
        """After a list: every listed pod as if changed, and the pods not listed as deleted."""
        listed = set()
        for pod in pods:
            listed.add(pod["metadata"]["uid"])
            self._pod_changed(pod)
        with self._lock:
            missing = [worker for uid, worker in self._workers.items() if uid not in listed]
        for worker in missing:
            worker.vanish()

    def _pod_changed(self, pod):
        uid = pod["metadata"]["uid"]
        node_name = pod["spec"].get("nodeName")
        if not node_name:
            self.scheduler.offer(pod)
            return
        if node_name != self.node:
            return
        with self._lock:
            if uid in self._finished_uids or self.stopping.is_set():
                return
            worker = self._workers.get(uid)
            if worker is None:
                worker = self._workers[uid] = PodWorker(self.context, pod, self._worker_done)
                worker.start()
        worker.update(pod)

    def _pod_deleted(self, pod):
        uid = pod["metadata"]["uid"]
        self.scheduler.forget(uid)
        with self._lock:
            worker = self._workers.get(uid)
        if worker is not None:
            worker.vanish()

    def _worker_done(self, worker):
        with self._lock:
            self._workers.pop(worker.uid, None)
            self._finished_uids.add(worker.uid)

    def _wake_workers(self):
        with self._lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.wake()


def main():
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s kubelet-standin: %(message)s")
    logging.getLogger("urllib3").setLevel(logging.ERROR)  # its retries are ours to report
    arguments = parse_arguments()
    standin = KubeletStandIn(arguments)
    signal.signal(signal.SIGTERM, standin.stop)
    signal.signal(signal.SIGINT, standin.stop)
    try:
        standin.run()
    except (PodmanError, ApiException) as error:
        log(f"cannot run: {describe(error) if isinstance(error, ApiException) else error}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
