"""The one-machine cluster the scenarios run on: an API server (the fake one, or any given by a
kubeconfig), the TrainingJob CRD from the chart, Kueue's Workload and ResourceFlavor CRDs and
Volcano's PodGroup CRD, a namespace of the run's own, a podman network for its pods, a
ResourceFlavor for the node, the operator in its own container (with --kueue and Volcano gang
scheduling) and the kubelet stand-in. Everything it starts is stopped and removed by close(), which
runs also when a scenario fails or the run is interrupted. Neither Kueue nor Volcano runs: a
scenario that needs one plays its part (e2e_schedulers).
"""

import glob
import os
import secrets
import signal
import socket
import subprocess
import sys

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from e2e_images import OPERATOR_IMAGE, REPO
from e2e_podman import podman, podman_environment
from e2e_wait import wait_for
import kueue_player
from operator_counters import secret_reads

GROUP, VERSION, PLURAL = "kubetrain.dev", "v1alpha1", "trainingjobs"
NODE_NAME = "kubetrain-e2e-node"
# The CRDs of the schedulers that scenarios play (e2e_schedulers): Kueue's and Volcano's.
SCHEDULER_CRDS = [os.path.join(REPO, "third_party/crds", name)
                  for name in ("kueue/kueue.x-k8s.io_workloads.yaml", "kueue/kueue.x-k8s.io_resourceflavors.yaml",
                               "volcano/scheduling.volcano.sh_podgroups.yaml")]
FLAVOR_LABEL = "kubetrain.dev/e2e-flavor"  # on the stand-in's Node, and in the flavor's nodeLabels
FLAVOR_TOLERATION = {"key": "kubetrain.dev/e2e-flavor", "operator": "Exists", "effect": "NoSchedule"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Cluster:
    def __init__(self, work_dir, fake_apiserver=None, kubeconfig=None, log=print):
        self.work_dir = work_dir
        self.log = log
        self.run_id = secrets.token_hex(3)
        self.namespace = f"kubetrain-e2e-{self.run_id}"
        self.network = f"kubetrain-e2e-{self.run_id}"
        self.operator_container = f"kubetrain-e2e-operator-{self.run_id}"
        self.flavor = f"kubetrain-e2e-{self.run_id}"  # the ResourceFlavor of the node
        self._flavor_made = False
        self.state_dir = os.path.join(work_dir, "standin")
        self.on_fake = kubeconfig is None
        self._fake = None
        self._standin = None
        self._network_made = False
        os.makedirs(self.state_dir, exist_ok=True)
        if self.on_fake:
            kubeconfig = self._start_fake_apiserver(fake_apiserver)
        self.kubeconfig = kubeconfig
        config.load_kube_config(config_file=kubeconfig)
        self.core = client.CoreV1Api()
        self.custom = client.CustomObjectsApi()
        self.extensions = client.ApiextensionsV1Api()

    # --- setup -----------------------------------------------------------------------------------

    def _start_fake_apiserver(self, binary):
        # Each open watch and idle keep-alive connection holds one of the fake's threads; the stand-in,
        # the operator and kubectl together hold many.
        self._fake = subprocess.Popen([binary, "--port", "0", "--threads", "512"], stdout=subprocess.PIPE, text=True)
        port = int(self._fake.stdout.readline())
        path = os.path.join(self.work_dir, "kubeconfig")
        document = {
            "apiVersion": "v1", "kind": "Config", "current-context": "e2e",
            "clusters": [{"name": "fake", "cluster": {"server": f"http://127.0.0.1:{port}"}}],
            "users": [{"name": "e2e", "user": {}}],
            "contexts": [{"name": "e2e", "context": {"cluster": "fake", "user": "e2e"}}],
        }
        with open(path, "w") as out:
            yaml.safe_dump(document, out)
        self.log(f"fake API server on port {port}")
        return path

    def install_crds(self):
        for path in sorted(glob.glob(os.path.join(REPO, "charts/kubetrain/crds/*.yaml"))) + SCHEDULER_CRDS:
            with open(path) as source:
                crd = yaml.safe_load(source)
            try:
                self.extensions.create_custom_resource_definition(crd)
            except ApiException as error:
                if error.status != 409:
                    raise
                current = self.extensions.read_custom_resource_definition(crd["metadata"]["name"])
                crd["metadata"]["resourceVersion"] = current.metadata.resource_version
                self.extensions.replace_custom_resource_definition(crd["metadata"]["name"], crd)
            self.log(f"installed {crd['metadata']['name']} from {os.path.relpath(path, REPO)}")
        # A real API server serves a new kind once its CRD is Established.
        for group, version, plural in ((GROUP, VERSION, PLURAL),
                                       (kueue_player.GROUP, kueue_player.VERSION, "workloads"),
                                       ("scheduling.volcano.sh", "v1beta1", "podgroups")):
            wait_for(f"{plural} to be served", lambda: self._served(group, version, plural), 60)

    def _served(self, group, version, plural):
        try:
            self.custom.list_namespaced_custom_object(group, version, "default", plural)
            return True
        except ApiException:
            return False

    def create_resource_flavor(self):
        """The ResourceFlavor a queued job is admitted on: its nodeLabels select the stand-in's
        Node, so an admitted pod schedules only if the operator gave it the flavor's labels."""
        self.custom.create_cluster_custom_object(kueue_player.GROUP, kueue_player.VERSION, "resourceflavors", {
            "apiVersion": f"{kueue_player.GROUP}/{kueue_player.VERSION}", "kind": "ResourceFlavor",
            "metadata": {"name": self.flavor},
            "spec": {"nodeLabels": {FLAVOR_LABEL: self.flavor}, "tolerations": [FLAVOR_TOLERATION]}})
        self._flavor_made = True

    def create_namespace(self):
        self.core.create_namespace({"metadata": {"name": self.namespace}})

    def create_network(self):
        podman("network", "create", self.network)
        self._network_made = True

    def start_operator(self):
        """The operator's image, on the host network (it reaches the API server there and the
        pods at their podman network addresses), with the kubeconfig mounted read-only."""
        os.chmod(self.kubeconfig, 0o644)  # the image's user is not root
        self.metrics_port = free_port()
        podman("run", "-d", "--name", self.operator_container, "--network", "host",
               "-v", f"{os.path.abspath(self.kubeconfig)}:/etc/kubetrain/kubeconfig:ro,Z",
               OPERATOR_IMAGE, "--kubeconfig", "/etc/kubetrain/kubeconfig", "--kueue", "--gang-schedulers=volcano",
               "--namespace", self.namespace, "--metrics-addr", f"127.0.0.1:{self.metrics_port}")
        self.log(f"operator running in container {self.operator_container}")

    def operator_secret_reads(self):
        """The operator's requests that read a Secret since it last started (its own counters)."""
        return secret_reads(self.metrics_port)

    def kill_operator(self):
        podman("kill", "--signal", "KILL", self.operator_container)
        podman("wait", self.operator_container, check=False)

    def restart_operator(self):
        podman("start", self.operator_container)

    def start_standin(self):
        arguments = [sys.executable, os.path.join(os.path.dirname(__file__), "kubelet_standin.py"),
                     "--kubeconfig", self.kubeconfig, "--namespace", self.namespace,
                     "--node", NODE_NAME, "--network", self.network, "--state-dir", self.state_dir,
                     "--node-label", f"{FLAVOR_LABEL}={self.flavor}"]
        self._standin_log = open(os.path.join(self.work_dir, "kubelet-standin.log"), "w")
        self._standin = subprocess.Popen(arguments, env=podman_environment(),
                                         stdout=self._standin_log, stderr=subprocess.STDOUT)
        wait_for("the stand-in's Node", self._node_registered, 30)
        self.log(f"kubelet stand-in running as node {NODE_NAME}")

    def _node_registered(self):
        if self._standin.poll() is not None:
            raise RuntimeError(f"the kubelet stand-in exited with {self._standin.returncode}; "
                               f"see {self._standin_log.name}")
        try:
            self.core.read_node(NODE_NAME)
            return True
        except ApiException:
            return False

    def setup(self):
        self.install_crds()
        self.create_resource_flavor()
        self.create_namespace()
        self.create_network()
        self.start_standin()
        self.start_operator()

    # --- the pods' containers, as the stand-in labels them (as CRI runtimes do) ------------------

    def pod_container(self, pod, container):
        """The running podman container of POD's CONTAINER."""
        filters = ["--filter", f"label=io.kubernetes.pod.namespace={self.namespace}",
                   "--filter", f"label=io.kubernetes.pod.name={pod}", "--filter", "status=running",
                   "--filter", f"label=io.kubernetes.container.name={container}"]
        ids = podman("ps", *filters, "--format", "{{.ID}}").stdout.split()
        assert len(ids) == 1, f"{len(ids)} running containers for pod {pod}"
        return ids[0]

    def count_processes(self, pod, container, command):
        """How many processes named COMMAND run in POD's CONTAINER."""
        table = podman("top", self.pod_container(pod, container), "comm").stdout.splitlines()[1:]
        # The kernel's comm holds the first 15 characters of the name.
        return sum(1 for line in table if line.strip() == command[:15])

    def kill_main_process(self, pod, container):
        """SIGKILL to the main process of POD's CONTAINER, which ends the container."""
        podman("kill", "--signal", "KILL", self.pod_container(pod, container))

    # --- what scenarios read ---------------------------------------------------------------------

    def container_logs_dir(self):
        return os.path.join(self.state_dir, "logs")

    def operator_log(self):
        return podman("logs", self.operator_container, check=False).stdout

    def print_logs(self, pod_prefix):
        """Prints the operator's log and the logs of the containers of pods named PREFIX*."""
        print("----- operator log (last 80 lines) -----")
        print("\n".join(self.operator_log().splitlines()[-80:]))
        for path in sorted(glob.glob(os.path.join(self.container_logs_dir(), "*"))):
            if os.path.basename(path).startswith(f"{self.namespace}_{pod_prefix}"):
                with open(path, errors="replace") as source:
                    lines = source.read().splitlines()
                print(f"----- {os.path.basename(path)} (last 60 lines) -----")
                print("\n".join(lines[-60:]))
        self._standin_log.flush()
        with open(self._standin_log.name, errors="replace") as source:
            print("----- kubelet stand-in (last 40 lines) -----")
            print("\n".join(source.read().splitlines()[-40:]))

    # --- teardown --------------------------------------------------------------------------------

    def close(self):
        podman("rm", "--force", "--time", "0", self.operator_container, check=False)
        try:
            self.core.delete_namespace(self.namespace)
        except Exception:  # the API server may be the reason the run is ending
            pass
        if self._flavor_made:
            try:
                self.custom.delete_cluster_custom_object(kueue_player.GROUP, kueue_player.VERSION,
                                                         "resourceflavors", self.flavor)
            except Exception:
                pass
        if self._standin is not None and self._standin.poll() is None:
            self._standin.send_signal(signal.SIGTERM)
            try:
                self._standin.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self._standin.kill()
        # Containers the stand-in could not remove (it was killed) go with the network.
        if self._network_made:
            podman("network", "rm", "--force", "--time", "0", self.network, check=False)
        if self._fake is not None:
            self._fake.terminate()
            self._fake.wait(timeout=30)
