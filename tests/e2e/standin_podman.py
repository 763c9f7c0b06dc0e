"""The podman commands the stand-in runs pods with: one podman pod (the sandbox: network
namespace, hostname, IP) per Kubernetes pod, and one container in it per Kubernetes container."""

import json
import os
import subprocess
import tempfile

from standin_errors import PodmanError

# Marks what a stand-in made, with its node's name; with the namespace label, what one finds at
# start-up was left by one of the same node and namespace killed before its time.
OWNER_LABEL = "io.kubetrain.standin.node"
NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
_TIMEOUT = 120  # podman hangs rarely, but a hung call must not hang a pod's thread for good


class Podman:
    def __init__(self, node, namespace, work_dir):
        self.owner = f"{OWNER_LABEL}={node}"
        # podman's conmon writes an "oom" marker into its working directory when the kernel kills
        # a container's process for memory; that directory must be the stand-in's, not the caller's.
        self._work_dir = work_dir
        self._filters = ["--filter", f"label={self.owner}", "--filter", f"label={NAMESPACE_LABEL}={namespace}"]

    def run(self, *arguments, timeout=_TIMEOUT):
        """podman's stdout; a failure raises PodmanError with podman's message."""
        try:
            result = subprocess.run(["podman", *arguments], capture_output=True, text=True, timeout=timeout,
                                    cwd=self._work_dir)
        except subprocess.TimeoutExpired:
            raise PodmanError(f"podman {arguments[0]} did not finish in {timeout} s") from None
        if result.returncode != 0:
            # conmon complains on stderr when there is no syslog; that is no reason for anything.
            lines = [line for line in result.stderr.splitlines() if "connect to syslog" not in line]
            raise PodmanError("\n".join(lines[-5:]) or f"podman {arguments[0]} exited {result.returncode}")
        return result.stdout

    def image(self, reference):
        """`podman image inspect` of a local image, or None when there is no such image."""
        try:
            return json.loads(self.run("image", "inspect", reference))[0]
        except PodmanError:
            return None

    def network_gateway(self, network):
        subnets = json.loads(self.run("network", "inspect", network))[0].get("subnets") or []
        if not subnets or not subnets[0].get("gateway"):
            raise PodmanError(f"podman network {network} has no gateway")
        return subnets[0]["gateway"]

    def create_sandbox(self, name, labels, network, hostname, aliases, dns_search):
        """Creates and starts the podman pod NAME; returns its IP on NETWORK. The aliases are the
        names other pods resolve it by (aardvark-dns); search domains and ndots are a kubelet's."""
        arguments = ["pod", "create", "--name", name, "--label", self.owner, "--network", network,
                     "--hostname", hostname, "--dns-option", "ndots:5"]
        for key, value in labels.items():
            arguments += ["--label", f"{key}={value}"]
        for alias in aliases:
            arguments += ["--network-alias", alias]
        for domain in dns_search:
            arguments += ["--dns-search", domain]
        self.run(*arguments)
        self.run("pod", "start", name)
        infra = json.loads(self.run("pod", "inspect", name))["InfraContainerID"]
        networks = self.inspect(infra)["NetworkSettings"]["Networks"]
        return networks[network]["IPAddress"]

    def remove_sandbox(self, name, grace_seconds):
        """Stops what still runs in the pod (SIGTERM, SIGKILL after GRACE_SECONDS), removes it all."""
        self.run("pod", "rm", "--force", "--time", str(grace_seconds), name, timeout=_TIMEOUT + grace_seconds)

    def create_container(self, arguments):
        return self.run("create", "--label", self.owner, *arguments).strip()

    def start(self, container_id):
        self.run("start", container_id)

    def stop(self, container_ids, grace_seconds):
        """SIGTERM (the image's stop signal), SIGKILL after GRACE_SECONDS; all at once."""
        if container_ids:
            self.run("stop", "--ignore", "--time", str(grace_seconds), *container_ids,
                     timeout=_TIMEOUT + grace_seconds)

    def kill(self, container_id):
        """SIGKILL; returns once the container has exited."""
        self.run("kill", "--signal", "KILL", container_id)
        self.run("wait", container_id)

    def inspect(self, container_id):
        """`podman container inspect`, or None when the container is gone."""
        try:
            return json.loads(self.run("container", "inspect", container_id))[0]
        except PodmanError:
            return None

    def exec(self, container_id, command, timeout):
        """(exit code, the end of its error output) of COMMAND run in the container; the code is
        None when it ran past TIMEOUT seconds."""
        try:
            result = subprocess.run(["podman", "exec", container_id, *command], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, timeout=timeout)
            return result.returncode, result.stderr.strip()[-300:]
        except subprocess.TimeoutExpired:
            return None, f"podman exec ran past {timeout} s"

    def owned_containers(self):
        """`podman ps --all` of everything this stand-in made: one call for every pod it runs."""
        return json.loads(self.run("ps", "--all", *self._filters, "--format", "json") or "[]")

    def owned_sandboxes(self):
        pods = json.loads(self.run("pod", "ps", *self._filters, "--format", "json") or "[]")
        return [pod["Name"] for pod in pods]

    def save_logs(self, container_id, path):
        """Writes the container's whole log (stdout and stderr) to PATH, replacing it at once so a
        reader never sees half of it."""
        directory = os.path.dirname(path)
        with tempfile.NamedTemporaryFile("wb", dir=directory, prefix=".", delete=False) as output:
            result = subprocess.run(["podman", "logs", container_id], stdout=output,
                                    stderr=subprocess.STDOUT, timeout=_TIMEOUT)
        if result.returncode != 0:
            os.unlink(output.name)
            raise PodmanError(f"podman logs {container_id} exited {result.returncode}")
        os.chmod(output.name, 0o644)
        os.replace(output.name, path)
