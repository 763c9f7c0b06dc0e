"""`podman create` arguments for one container of a pod: its process (command, args, env), user
and groups, security settings and resource limits, as a kubelet and its runtime would set them."""

import json

from standin_env import expand
from standin_errors import ContainerConfigError
from standin_quantity import cpu_cores, memory_bytes


def podman_create_arguments(pod, container, image, environment, mounts, sandbox, name, labels):
    """Everything after `podman create`. IMAGE is `podman image inspect` of the container's image;
    ENVIRONMENT the container's variables ({name: value}); MOUNTS its --mount arguments."""
    arguments = ["--pod", sandbox, "--name", name, "--pull", "never"]
    for key, value in labels.items():
        arguments += ["--label", f"{key}={value}"]
    arguments += mounts
    for key, value in environment.items():
        arguments += ["--env", f"{key}={value}"]
    if container.get("workingDir"):
        arguments += ["--workdir", container["workingDir"]]
    arguments += _security_arguments(pod, container, image)
    arguments += _resource_arguments(container.get("resources") or {})
    # command replaces the image's ENTRYPOINT (and with it its CMD); args replace its CMD.
    if container.get("command"):
        arguments += ["--entrypoint", json.dumps([expand(part, environment) for part in container["command"]])]
    arguments.append(container["image"])
    arguments += [expand(part, environment) for part in container.get("args") or []]
    return arguments


def _security_arguments(pod, container, image):
    pod_context = pod["spec"].get("securityContext") or {}
    context = container.get("securityContext") or {}

    def setting(key):  # the container's own setting wins over the pod's
        return context.get(key, pod_context.get(key))

    arguments = _user_arguments(setting("runAsUser"), setting("runAsGroup"), setting("runAsNonRoot"),
                                (image.get("Config") or {}).get("User") or "",
                                pod["metadata"]["name"], container["name"])
    groups = ([pod_context["fsGroup"]] if pod_context.get("fsGroup") is not None else []) \
        + list(pod_context.get("supplementalGroups") or [])
    for group in groups:
        arguments += ["--group-add", str(group)]
    capabilities = context.get("capabilities") or {}
    for capability in capabilities.get("drop") or []:
        arguments += ["--cap-drop", capability.lower()]
    for capability in capabilities.get("add") or []:
        arguments += ["--cap-add", capability.lower()]
    if context.get("privileged"):
        arguments.append("--privileged")
    if context.get("allowPrivilegeEscalation") is False:
        arguments += ["--security-opt", "no-new-privileges"]
    if context.get("readOnlyRootFilesystem"):
        # Kubernetes mounts nothing writable in its place; podman would put tmpfs on /tmp and /run.
        arguments += ["--read-only", "--read-only-tmpfs=false"]
    return arguments


def _user_arguments(uid, gid, run_as_non_root, image_user, pod_name, container_name):
    """--user for runAsUser/runAsGroup (none: the image's user), after the runAsNonRoot check
    kubelet makes, with kubelet's messages."""
    where = f'(pod: "{pod_name}", container: {container_name})'
    image_uid = image_user.split(":")[0]
    if run_as_non_root:
        if uid is not None:
            if uid == 0:
                raise ContainerConfigError(f"container's runAsUser breaks non-root policy {where}")
        elif image_uid in ("", "0"):
            raise ContainerConfigError(f"container has runAsNonRoot and image will run as root {where}")
        elif not image_uid.isdigit():
            raise ContainerConfigError(f"container has runAsNonRoot and image has non-numeric user "
                                       f"({image_uid}), cannot verify user is non-root {where}")
    if uid is None and gid is None:
        return []
    user = str(uid) if uid is not None else (image_uid or "0")
    return ["--user", f"{user}:{gid}" if gid is not None else user]


def _resource_arguments(resources):
    limits = resources.get("limits") or {}
    arguments = []
    try:
        if "memory" in limits:
            # No swap beyond the limit, as on a kubelet's node: going over it is an OOM kill.
            limit = str(memory_bytes(limits["memory"]))
            arguments += ["--memory", limit, "--memory-swap", limit]
        if "cpu" in limits:
            arguments += ["--cpus", f"{cpu_cores(limits['cpu']):g}"]
    except ValueError as error:
        raise ContainerConfigError(str(error)) from None
    return arguments
