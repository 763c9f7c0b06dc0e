#!/usr/bin/python3
"""The kubelet stand-in against the fake API server, running real containers with podman.

  test_kubelet_standin.py [FAKE_APISERVER]     (default: $KUBETRAIN_FAKE_APISERVER)

Starts the fake API server, a podman network of its own and the stand-in, creates every pod the
checks look at, all at once (they run side by side), and has the fake API server fail a tenth of
the stand-in's writes and end its watches often while they run. Then checks what each pod ends
as, and at the end that the stand-in, stopped, left no container, podman pod or Node behind.
Runs as root; makes the localhost/debian:12 image it runs when podman has none (as run_e2e.py
does); exits 77 (skipped) when podman cannot run pods here.
"""

import base64
import glob
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest
import urllib.request

from kubernetes import client, config
from kubernetes.client.rest import ApiException

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from standin_env import expand  # noqa: E402
from standin_quantity import cpu_cores, memory_bytes  # noqa: E402
from e2e_images import BASE_IMAGE, DEFAULT_CACHE_DIR, ensure_base_image  # noqa: E402
from e2e_podman import skip  # noqa: E402
from e2e_wait import wait_for as shared_wait_for  # noqa: E402

os.environ.setdefault("CONTAINERS_CONF", os.path.join(HERE, "containers.conf"))

IMAGE = BASE_IMAGE
MISSING_IMAGE = "localhost/kubetrain-no-such-image:0"
NAMESPACE = "standin-test"
RUN_ID = secrets.token_hex(3)
NODE = f"standin-test-{RUN_ID}"
NETWORK = f"kubetrain-standin-test-{RUN_ID}"
OWNER_LABEL = f"io.kubetrain.standin.node={NODE}"
TIMEOUT = 90
# Faults on the writes the stand-in makes (the checks themselves only read and delete).
API_FAULTS = {"errorRate": 0.1, "codes": [409, 500, 503], "dropWatchEvery": 10,
              "verbs": ["create", "update", "patch"]}

environment = None
core = None  # the checks' CoreV1Api


# --- the pods ----------------------------------------------------------------------------------------

def pod(name, script, container=None, **spec):
    """A pod of IMAGE running `sh -c SCRIPT`, restartPolicy Never; CONTAINER is merged into its
    container, SPEC into its spec."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"restartPolicy": "Never",
                     "containers": [{"name": "main", "image": IMAGE, "command": ["sh", "-c", script],
                                     **(container or {})}], **spec}}


def resolver_pod(name, peer):
    """Waits until PEER resolves by HOST.SUBDOMAIN, prints it so and by its FQDN, prints its own
    FQDN, and stays up long enough for its peer to resolve it too."""
    script = (f"for i in $(seq 60); do getent hosts {peer}.peers >/dev/null && break; sleep 1; done; "
              f"getent hosts {peer}.peers && getent hosts {peer}.peers.{NAMESPACE}.svc.cluster.local && "
              "echo fqdn=$(hostname -f) && sleep 15")
    return pod(name, script, hostname=name, subdomain="peers")


SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"},
          "data": {"token": base64.b64encode(b"s3cret").decode()}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"},
              "data": {"app.conf": "setting=on\n", "unused": "not projected"}}

VOLUMES_SCRIPT = """set -e
stat -c 'token mode=%a group=%g' /secret/token
echo token=$(cat /secret/token)
stat -c 'conf mode=%a' /config/conf/app.conf
cat /config/conf/app.conf
ls /config
echo sub=$(cat /etc/app/app.conf)
echo written > /scratch/file && stat -f -c 'scratch fs=%T' /scratch
touch /on-rootfs 2>/dev/null || echo rootfs read-only
grep -E '^(NoNewPrivs|CapEff)' /proc/self/status
echo uid=$(id -u) gid=$(id -g) groups=$(id -G)
"""
# A port to listen on for a tcpSocket probe: perl-base is in every Debian.
LISTEN_SCRIPT = ("sleep 1; exec perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalPort => 8080, "
                 "Listen => 5, ReuseAddr => 1) or die; while ($c = $s->accept) { close $c }'")

PODS = [
    pod("echo-name", 'echo "name=$POD_NAME $GREETING"', container={
        "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "GREETING", "value": "hello $(POD_NAME)"}]}),
    pod("exit-three", "exit 3"),
    pod("volumes", VOLUMES_SCRIPT,
        securityContext={"runAsUser": 1000, "runAsGroup": 3000, "fsGroup": 2000, "supplementalGroups": [4000],
                         "runAsNonRoot": True},
        volumes=[{"name": "token", "secret": {"secretName": "token", "defaultMode": 0o440}},
                 {"name": "settings", "configMap": {"name": "settings",
                                                    "items": [{"key": "app.conf", "path": "conf/app.conf",
                                                               "mode": 0o400}]}},
                 {"name": "scratch", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}],
        container={"volumeMounts": [{"name": "token", "mountPath": "/secret"},
                                    {"name": "settings", "mountPath": "/config"},
                                    {"name": "settings", "mountPath": "/etc/app", "subPath": "conf"},
                                    {"name": "scratch", "mountPath": "/scratch"}],
                   "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
                                       "capabilities": {"drop": ["ALL"]}},
                   "resources": {"limits": {"cpu": "500m", "memory": "128Mi"}}}),
    pod("exec-ready", "sleep 2; touch /tmp/ready; exec sleep 600", container={
        "readinessProbe": {"exec": {"command": ["cat", "/tmp/ready"]}, "periodSeconds": 1}}),
    pod("tcp-ready", LISTEN_SCRIPT, container={
        "ports": [{"name": "http", "containerPort": 8080}],
        "readinessProbe": {"tcpSocket": {"port": "http"}, "periodSeconds": 1, "failureThreshold": 1}}),
    # The kernel kills the pipeline's tail, not the shell; the container must end all the same.
    pod("over-memory", "head -c 200m /dev/zero | tail; exec sleep 600",
        container={"resources": {"limits": {"memory": "64Mi"}}}),
    pod("missing-image", "true", container={"image": MISSING_IMAGE}),
    pod("root-refused", "true", securityContext={"runAsNonRoot": True}),
    resolver_pod("alpha", "beta"),
    resolver_pod("beta", "alpha"),
    pod("sigterm", "trap 'echo got SIGTERM; exit 0' TERM; touch /tmp/trapped; while true; do sleep 0.2; done",
        terminationGracePeriodSeconds=30, container={
            "readinessProbe": {"exec": {"command": ["test", "-f", "/tmp/trapped"]}, "periodSeconds": 1}}),
    pod("vanishing", "exec sleep 600"),
    pod("nowhere", "true", nodeSelector={"kubetrain.dev/no-such-label": "x"}),
]


# --- the environment: fake API server, podman network, the stand-in ---------------------------------

def skip_reason():
    """Why podman cannot run this test's pods here, or None. Makes the image they run."""
    if os.geteuid() != 0:
        return "runs pods with podman as root; run as root"
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/install-deps.sh --tests)"
    ensure_base_image(DEFAULT_CACHE_DIR)
    probe = f"standin-test-probe-{RUN_ID}"
    made = subprocess.run(["podman", "pod", "create", "--name", probe], capture_output=True, text=True)
    subprocess.run(["podman", "pod", "rm", "--force", probe], capture_output=True)
    if made.returncode != 0:
        return f"podman cannot create pods here (is catatonit installed?): {made.stderr.strip()}"
    ran = subprocess.run(["podman", "run", "--rm", IMAGE, "true"], capture_output=True, text=True)
    if ran.returncode != 0:
        return f"podman cannot run containers here: {ran.stderr.strip()}"
    return None


class Environment:
    """The fake API server, a podman network and the stand-in. close() removes what start()
    made, also when start() got only part of the way."""

    def __init__(self, work_dir):
        self.work_dir = work_dir
        self.state_dir = os.path.join(work_dir, "state")
        self.standin_log = os.path.join(work_dir, "kubelet-standin.log")
        self.fake = self.standin = self.core = None
        self.network_made = False

    def start(self, fake_apiserver):
        self.fake = subprocess.Popen([fake_apiserver, "--port", "0"], stdout=subprocess.PIPE, text=True)
        self.server = f"http://127.0.0.1:{int(self.fake.stdout.readline())}"
        kubeconfig = os.path.join(self.work_dir, "kubeconfig")
        with open(kubeconfig, "w") as out:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                       "clusters": [{"name": "fake", "cluster": {"server": self.server}}],
                       "users": [{"name": "fake", "user": {}}],
                       "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}]}, out)
        self.core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))
        self.core.create_namespace({"metadata": {"name": NAMESPACE}})
        subprocess.run(["podman", "network", "create", NETWORK], check=True, capture_output=True)
        self.network_made = True
        with open(self.standin_log, "w") as log:
            self.standin = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "kubelet_standin.py"), "--kubeconfig", kubeconfig,
                 "--namespace", NAMESPACE, "--node", NODE, "--network", NETWORK, "--state-dir", self.state_dir,
                 "--node-label", "kubetrain.dev/test=yes"], stdout=log, stderr=subprocess.STDOUT)
        wait_for("the stand-in's Node", self._node_registered, 30)

    def set_faults(self, faults):
        request = urllib.request.Request(f"{self.server}/fake/faults", data=json.dumps(faults).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        urllib.request.urlopen(request, timeout=10).close()

    def _node_registered(self):
        if self.standin.poll() is not None:
            raise RuntimeError(f"the stand-in exited with {self.standin.returncode}")
        try:
            return self.core.read_node(NODE)
        except ApiException:
            return None

    def close(self):
        """Stops the stand-in and removes everything; raises when the stand-in, stopped, left
        anything of its own behind."""
        try:
            self._stop_standin()
            left = self._owned("ps", "--all") + self._owned("pod", "ps") + self._mounts()
            if self.core is not None and self._node_exists():
                left.append(f"Node {NODE}")
        finally:
            pods, containers = self._owned("pod", "ps"), self._owned("ps", "--all")
            if pods:
                subprocess.run(["podman", "pod", "rm", "--force", "--time", "0", *pods], capture_output=True)
            if containers:
                subprocess.run(["podman", "rm", "--force", "--time", "0", *containers], capture_output=True)
            if self.network_made:
                subprocess.run(["podman", "network", "rm", "--force", NETWORK], capture_output=True)
            if self.fake is not None:
                self.fake.terminate()
                self.fake.wait(timeout=30)
        assert not left, f"the stopped stand-in left {left}"

    def _stop_standin(self):
        if self.standin is None or self.standin.poll() is not None:
            return
        self.standin.send_signal(signal.SIGTERM)
        try:
            self.standin.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.standin.kill()
            self.standin.wait()
            raise AssertionError("the stand-in did not stop within 60 s of SIGTERM") from None

    @staticmethod
    def _owned(*listing):
        """Names of the podman containers (ps) or pods (pod ps) with the stand-in's label."""
        return subprocess.run(["podman", *listing, "--filter", f"label={OWNER_LABEL}", "--format", "{{.Names}}"],
                              capture_output=True, text=True).stdout.split()

    def _mounts(self):
        """The stand-in's tmpfs volumes still mounted."""
        with open("/proc/self/mountinfo") as mounts:
            points = [line.split()[4] for line in mounts]
        return [f"mount {point}" for point in points if point.startswith(self.state_dir + os.sep)]

    def _node_exists(self):
        try:
            self.core.read_node(NODE)
            return True
        except ApiException:
            return False


def set_up(fake_apiserver, work_dir):
    global environment, core
    environment = Environment(work_dir)
    environment.start(fake_apiserver)
    core = environment.core
    core.create_namespaced_secret(NAMESPACE, SECRET)
    core.create_namespaced_config_map(NAMESPACE, CONFIG_MAP)
    for manifest in PODS:
        core.create_namespaced_pod(NAMESPACE, manifest)
    environment.set_faults(API_FAULTS)


# --- what the checks read ------------------------------------------------------------------------------

def wait_for(what, predicate, timeout=TIMEOUT, interval=0.5):
    return shared_wait_for(what, predicate, timeout, interval)


def read_pod(name):
    try:
        return json.loads(core.read_namespaced_pod(name, NAMESPACE, _preload_content=False).data)
    except ApiException as error:
        if error.status == 404:
            return None
        raise


def status(pod):
    return pod.get("status") or {}


def condition(pod, kind):
    return next((entry for entry in status(pod).get("conditions") or [] if entry["type"] == kind), {})


def container_state(pod):
    statuses = status(pod).get("containerStatuses") or [{}]
    return statuses[0].get("state") or {}


def wait_phase(name, *phases):
    """The pod once its phase is one of PHASES."""
    def reached():
        pod = read_pod(name)
        return pod if pod and status(pod).get("phase") in phases else None
    return wait_for(f"{name} to be {'/'.join(phases)}", reached)


def wait_ready(name):
    """The pod once its Ready condition is True."""
    def ready():
        pod = read_pod(name)
        return pod if pod and condition(pod, "Ready").get("status") == "True" else None
    return wait_for(f"{name} to be Ready", ready)


def container_log(name):
    """The log the stand-in kept of pod NAME's container."""
    paths = glob.glob(os.path.join(environment.state_dir, "logs", f"{NAMESPACE}_{name}_main.*.log"))
    assert len(paths) == 1, f"logs of {name}: {paths}"
    with open(paths[0]) as log:
        return log.read()


def podman_containers_of(uid):
    return subprocess.run(["podman", "ps", "--all", "--filter", f"label=io.kubernetes.pod.uid={uid}",
                           "--format", "{{.Names}}"], capture_output=True, text=True).stdout.split()


# --- the checks ----------------------------------------------------------------------------------------

class NodeTest(unittest.TestCase):
    def test_registered_ready_with_labels_and_address(self):
        node = json.loads(core.read_node(NODE, _preload_content=False).data)
        labels = node["metadata"]["labels"]
        self.assertEqual(labels["kubernetes.io/hostname"], NODE)
        self.assertEqual(labels["kubernetes.io/os"], "linux")
        self.assertEqual(labels["kubetrain.dev/test"], "yes")
        ready = next(entry for entry in node["status"]["conditions"] if entry["type"] == "Ready")
        self.assertEqual(ready["status"], "True")
        self.assertEqual(node["status"]["addresses"][0]["type"], "InternalIP")
        self.assertIn("memory", node["status"]["allocatable"])


class PodTest(unittest.TestCase):
    def test_exit_0_is_succeeded_completed_and_logged(self):
        pod = wait_phase("echo-name", "Succeeded", "Failed")
        self.assertEqual(status(pod)["phase"], "Succeeded")
        terminated = container_state(pod)["terminated"]
        self.assertEqual((terminated["exitCode"], terminated["reason"]), (0, "Completed"))
        self.assertEqual(pod["spec"]["nodeName"], NODE)
        self.assertTrue(status(pod)["podIP"] and status(pod)["hostIP"] and status(pod)["startTime"])
        container = status(pod)["containerStatuses"][0]
        self.assertTrue(container["containerID"].startswith("podman://") and container["imageID"])
        self.assertEqual(condition(pod, "PodScheduled")["status"], "True")
        self.assertEqual(condition(pod, "Ready")["status"], "False")
        self.assertIn("name=echo-name hello echo-name", container_log("echo-name"))

    def test_exit_3_is_failed_error(self):
        pod = wait_phase("exit-three", "Succeeded", "Failed")
        self.assertEqual(status(pod)["phase"], "Failed")
        terminated = container_state(pod)["terminated"]
        self.assertEqual((terminated["exitCode"], terminated["reason"]), (3, "Error"))

    def test_volumes_modes_ownership_and_security_context(self):
        pod = wait_phase("volumes", "Succeeded", "Failed")
        log = container_log("volumes")
        self.assertEqual(status(pod)["phase"], "Succeeded", log)
        for line in ("token mode=440 group=2000", "token=s3cret", "conf mode=440", "setting=on",
                     "sub=setting=on", "scratch fs=tmpfs", "rootfs read-only", "NoNewPrivs:\t1",
                     "CapEff:\t0000000000000000"):
            self.assertIn(line, log)
        self.assertNotIn("unused", log)  # items: only the keys named
        self.assertRegex(log, r"uid=1000 gid=3000 groups=3000 (2000 4000|4000 2000)\n")

    def test_exec_readiness_probe(self):
        pod = wait_ready("exec-ready")
        self.assertTrue(status(pod)["containerStatuses"][0]["ready"])
        self.assertEqual(status(pod)["phase"], "Running")
        self.assertEqual(condition(pod, "ContainersReady")["status"], "True")

    def test_tcp_readiness_probe_on_a_named_port(self):
        self.assertEqual(status(wait_ready("tcp-ready"))["phase"], "Running")

    def test_over_memory_limit_is_oom_killed(self):
        pod = wait_phase("over-memory", "Succeeded", "Failed")
        self.assertEqual(status(pod)["phase"], "Failed")
        self.assertEqual(container_state(pod)["terminated"]["reason"], "OOMKilled")

    def test_missing_image_backs_off(self):
        reasons = set()

        def backing_off():
            waiting = container_state(read_pod("missing-image")).get("waiting") or {}
            if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                self.assertIn(MISSING_IMAGE, waiting.get("message", ""))
                reasons.add(waiting["reason"])
            return "ImagePullBackOff" in reasons
        wait_for("missing-image to be in ImagePullBackOff", backing_off, interval=0.2)
        self.assertEqual(status(read_pod("missing-image"))["phase"], "Pending")

    def test_run_as_non_root_refuses_a_root_image(self):
        def refused():
            waiting = container_state(read_pod("root-refused")).get("waiting") or {}
            return waiting if waiting.get("reason") == "CreateContainerConfigError" else None
        self.assertIn("runAsNonRoot", wait_for("root-refused to be refused", refused)["message"])

    def test_hostname_and_subdomain_resolve_across_pods(self):
        for name, peer in (("alpha", "beta"), ("beta", "alpha")):
            pod = wait_phase(name, "Succeeded", "Failed")
            log = container_log(name)
            self.assertEqual(status(pod)["phase"], "Succeeded", f"{name}'s log:\n{log}")
            self.assertEqual(log.count(status(read_pod(peer))["podIP"] + " "), 2, log)
            self.assertIn(f"fqdn={name}.peers.{NAMESPACE}.svc.cluster.local", log)

    def test_graceful_delete_sends_sigterm_then_the_pod_goes(self):
        uid = wait_ready("sigterm")["metadata"]["uid"]
        core.delete_namespaced_pod("sigterm", NAMESPACE)
        wait_for("the deleted pod to go", lambda: read_pod("sigterm") is None, timeout=40)
        self.assertIn("got SIGTERM", container_log("sigterm"))
        self.assertEqual(podman_containers_of(uid), [])

    def test_pod_gone_from_the_api_is_killed(self):
        uid = wait_phase("vanishing", "Running")["metadata"]["uid"]
        core.delete_namespaced_pod("vanishing", NAMESPACE, grace_period_seconds=0)
        wait_for("the vanished pod's containers to go", lambda: not podman_containers_of(uid), timeout=20)

    def test_unmatched_node_selector_is_unschedulable(self):
        def marked():
            pod = read_pod("nowhere")
            return pod if condition(pod, "PodScheduled").get("reason") == "Unschedulable" else None
        pod = wait_for("nowhere to be Unschedulable", marked)
        self.assertNotIn("nodeName", pod["spec"])
        self.assertEqual(status(pod)["phase"], "Pending")


class PureFunctionTest(unittest.TestCase):
    def test_quantities(self):
        self.assertEqual(memory_bytes("512Mi"), 512 * 2**20)
        self.assertEqual(memory_bytes("1G"), 10**9)
        self.assertEqual(memory_bytes("1.5Ki"), 1536)
        self.assertEqual(memory_bytes("129"), 129)
        self.assertEqual(memory_bytes("1e3"), 1000)
        self.assertEqual(cpu_cores("500m"), 0.5)
        self.assertRaises(ValueError, memory_bytes, "12 apples")

    def test_dependent_variables_expand(self):
        variables = {"A": "x", "B": "y"}
        self.assertEqual(expand("$(A)-$(B)", variables), "x-y")
        self.assertEqual(expand("$$(A) $(UNSET) $A", variables), "$(A) $(UNSET) $A")


# --- running it ----------------------------------------------------------------------------------------

def print_standin_log(work_dir):
    path = os.path.join(work_dir, "kubelet-standin.log")
    if os.path.exists(path):
        with open(path, errors="replace") as log:
            print("----- kubelet stand-in log (last 100 lines) -----")
            print("\n".join(log.read().splitlines()[-100:]))


def interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main():
    fake_apiserver = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("KUBETRAIN_FAKE_APISERVER")
    if not fake_apiserver or not os.access(fake_apiserver, os.X_OK):
        print("usage: test_kubelet_standin.py FAKE_APISERVER (or set KUBETRAIN_FAKE_APISERVER)", file=sys.stderr)
        return 2
    reason = skip_reason()
    if reason:
        return skip("test_kubelet_standin", reason)
    signal.signal(signal.SIGTERM, interrupt)  # a test timeout must not leave containers running
    work_dir = tempfile.mkdtemp(prefix="kubetrain-standin-test-", dir="/var/tmp")
    os.chmod(work_dir, 0o755)  # the pods' users reach their volumes below it
    passed = False
    try:
        set_up(fake_apiserver, work_dir)
        suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
        passed = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
    finally:
        try:
            if environment is not None:
                environment.close()
        except AssertionError as error:
            print(f"FAIL: {error}")
            passed = False
        if not passed:
            print_standin_log(work_dir)
        shutil.rmtree(work_dir, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
