"""TrainingJobs for the scenarios, made from the CPU example users apply, and what scenarios read
back of them: state, conditions, events, pods."""

import copy
import os
import shutil
import subprocess
import time

import yaml
from kubernetes.client.rest import ApiException

from e2e_cluster import GROUP, PLURAL, VERSION
from e2e_wait import wait_for
from e2e_images import REPO, WORKER_IMAGE

EXAMPLE = os.path.join(REPO, "examples/trainingjob-fashion-mnist-cpu.yaml")
CHECKPOINT_MOUNT = "/checkpoints"
WORKER_UID = 1000  # the worker image's user (docker/install-worker-runtime.sh)

# A short run of the example: a subset of Fashion-MNIST (the image's copy), small epochs, each
# rank one core of the machine's two.
SHORT_TRAINING = {
    "data": {"trainExamples": 2048, "validationExamples": 1000, "threads": 1, "prefetch": 2},
    "globalBatchSize": 128,
    "epochs": 2,
    "optimizer": {"learningRate": 0.1, "baseBatchSize": 128},
    "schedule": {"warmupEpochs": 0, "decay": "cosine"},
    "logEverySteps": 4,
}


def merged(base, extra):
    """`base` with `extra` merged in, dictionaries key by key (a None value deletes the key)."""
    result = copy.deepcopy(base)
    for key, value in extra.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def training_job(name, checkpoint_dir=None, training=None, spec=None):
    """The CPU example renamed, with the e2e worker image, a short run, `training` and `spec`
    merged in, and (given `checkpoint_dir`) checkpoints on a hostPath volume at /checkpoints."""
    with open(EXAMPLE) as source:
        job = yaml.safe_load(source)
    job["metadata"] = {"name": name}
    job["spec"]["image"] = WORKER_IMAGE
    job["spec"]["resources"] = {"requests": {"cpu": "500m", "memory": "1Gi"},
                                "limits": {"cpu": "1", "memory": "1Gi"}}
    job["spec"]["training"] = merged(merged(job["spec"]["training"], SHORT_TRAINING), training or {})
    job["spec"]["runPolicy"] = merged(job["spec"].get("runPolicy", {}),
                                      {"ttlSecondsAfterFinished": None, "startupDeadlineSeconds": 120})
    if checkpoint_dir is not None:
        # hostPath stands in for a PersistentVolumeClaim that every worker pod mounts.
        os.makedirs(checkpoint_dir, exist_ok=True)
        os.chown(checkpoint_dir, WORKER_UID, WORKER_UID)
        job["spec"]["training"]["checkpoint"] = {"dir": CHECKPOINT_MOUNT, "everyEpochs": 1, "keep": 3}
        job["spec"]["template"] = {"spec": {
            "volumes": [{"name": "checkpoints", "hostPath": {"path": checkpoint_dir, "type": "Directory"}}],
            "containers": [{"name": "worker",
                            "volumeMounts": [{"name": "checkpoints", "mountPath": CHECKPOINT_MOUNT}]}],
        }}
    return merged(job, {"spec": spec or {}})


class ApplyRefused(Exception):
    """kubectl apply failed; the message is kubectl's output."""


def kubectl_path():
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not found and os.path.exists("/opt/kubetrain-chart-tools/bin/kubectl"):
        found = "/opt/kubetrain-chart-tools/bin/kubectl"
    assert found and os.access(found, os.X_OK), (
        "kubectl not found (scripts/install-chart-tools.sh installs it; or set KUBECTL)")
    return found


def kubectl(cluster, *arguments):
    """Runs kubectl against the cluster's namespace; returns the CompletedProcess."""
    return subprocess.run([kubectl_path(), "--kubeconfig", cluster.kubeconfig, "-n", cluster.namespace,
                           *arguments], capture_output=True, text=True, timeout=60)


class Jobs:
    """TrainingJobs of the cluster's namespace."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.custom = cluster.custom
        self.core = cluster.core
        self.namespace = cluster.namespace

    def apply(self, job):
        """`kubectl apply -f` of the job's manifest, as a user submits it."""
        manifests = os.path.join(self.cluster.work_dir, "manifests")
        os.makedirs(manifests, exist_ok=True)
        path = os.path.join(manifests, job["metadata"]["name"] + ".yaml")
        with open(path, "w") as out:
            yaml.safe_dump(job, out, sort_keys=False)
        result = kubectl(self.cluster, "apply", "-f", path)
        if result.returncode != 0:
            raise ApplyRefused(result.stdout + result.stderr)
        assert "created" in result.stdout, result.stdout

    def get(self, name):
        try:
            return self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def patch_spec(self, name, spec):
        self.custom.patch_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name,
                                                   {"spec": spec})

    def delete(self, name):
        try:
            self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, name)
        except ApiException as error:
            if error.status != 404:
                raise

    def status(self, name):
        job = self.get(name)
        return (job or {}).get("status") or {}

    def condition(self, name, kind):
        for condition in self.status(name).get("conditions") or []:
            if condition["type"] == kind:
                return condition
        return None

    def wait_state(self, name, states, timeout, on_poll=None):
        """Waits until status.state is one of `states`; fails at once on another terminal state.
        `on_poll` is called at every look."""
        wanted = {states} if isinstance(states, str) else set(states)

        def reached():
            if on_poll:
                on_poll()
            state = self.status(name).get("state")
            if state in wanted:
                return state
            if state in ("Succeeded", "Failed"):
                raise AssertionError(f"{name} ended {state}, not {'/'.join(sorted(wanted))}: "
                                     f"{self.status(name)}")
            return None
        return wait_for(f"{name} to be {'/'.join(sorted(wanted))}", reached, timeout, interval=0.5)

    def pods(self, name):
        return self.core.list_namespaced_pod(
            self.namespace, label_selector=f"kubetrain.dev/job-name={name}").items

    def events(self, name):
        return [event for event in self.core.list_namespaced_event(self.namespace).items
                if event.involved_object.name == name]

    def event_reasons(self, name):
        return {event.reason for event in self.events(name)}

    def children(self, name):
        """Names of the Services, ConfigMaps, Secrets and Pods labelled with the job's name."""
        selector = f"kubetrain.dev/job-name={name}"
        found = []
        for kind, lister in (("Service", self.core.list_namespaced_service),
                             ("ConfigMap", self.core.list_namespaced_config_map),
                             ("Secret", self.core.list_namespaced_secret),
                             ("Pod", self.core.list_namespaced_pod)):
            found += [f"{kind}/{item.metadata.name}"
                      for item in lister(self.namespace, label_selector=selector).items]
        return found


class ProgressRecorder:
    """Samples status.progress while a job runs, to show it advancing."""

    def __init__(self, jobs, name):
        self.jobs, self.name, self.samples = jobs, name, []

    def sample(self):
        progress = self.jobs.status(self.name).get("progress") or {}
        if progress.get("step") is not None and (not self.samples or self.samples[-1] != progress["step"]):
            self.samples.append(progress["step"])
        return progress

    def advanced(self):
        return len(self.samples) >= 2 and self.samples[-1] > self.samples[0]


def seconds_since(start):
    return time.monotonic() - start
