"""A container's environment as a kubelet builds it: env values, valueFrom references, and the
$(VAR) references Kubernetes expands in env values, command and args."""

import base64
import re

from standin_errors import ContainerConfigError

_REFERENCE = re.compile(r"\$(?:\$|\(([^)]*)\))")
_MAP_FIELD = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")


def expand(text, variables):
    """TEXT with $(NAME) replaced by variables[NAME]; an unknown name stays as written and $$
    stands for a literal $, as in Kubernetes."""
    def replace(match):
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return variables[name] if name in variables else match.group(0)
    return _REFERENCE.sub(replace, text)


def container_environment(pod, container, pod_ip, host_ip, read_config_map, read_secret):
    """{name: value} in the order the container's env list gives; read_config_map(name) and
    read_secret(name) return the object as a dict, or None when it does not exist."""
    if container.get("envFrom"):
        raise ContainerConfigError("envFrom is not supported by the kubelet stand-in")
    variables = {}
    for entry in container.get("env") or []:
        name = entry["name"]
        if "valueFrom" in entry:
            value = _referenced_value(pod, entry["valueFrom"], pod_ip, host_ip, read_config_map, read_secret)
            if value is None:  # an optional reference to something missing: no variable at all
                continue
        else:
            value = expand(entry.get("value") or "", variables)
        variables[name] = value
    return variables


def _referenced_value(pod, source, pod_ip, host_ip, read_config_map, read_secret):
    if "fieldRef" in source:
        return _field_value(pod, source["fieldRef"]["fieldPath"], pod_ip, host_ip)
    if "configMapKeyRef" in source:
        return _key_value("configmap", source["configMapKeyRef"], read_config_map, lambda data: data)
    if "secretKeyRef" in source:
        return _key_value("secret", source["secretKeyRef"], read_secret,
                          lambda encoded: base64.b64decode(encoded).decode(errors="replace"))
    raise ContainerConfigError(f"valueFrom {sorted(source)} is not supported by the kubelet stand-in")


def _field_value(pod, path, pod_ip, host_ip):
    metadata, spec = pod["metadata"], pod["spec"]
    fields = {
        "metadata.name": metadata["name"],
        "metadata.namespace": metadata["namespace"],
        "metadata.uid": metadata["uid"],
        "spec.nodeName": spec.get("nodeName", ""),
        "spec.serviceAccountName": spec.get("serviceAccountName", ""),
        "status.podIP": pod_ip,
        "status.podIPs": pod_ip,
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
    }
    if path in fields:
        return fields[path]
    mapped = _MAP_FIELD.match(path)
    if mapped:
        return (metadata.get(mapped.group(1)) or {}).get(mapped.group(2), "")
    raise ContainerConfigError(f"fieldRef {path!r} is not supported")


def _key_value(kind, reference, read, decode):
    source = read(reference["name"])
    optional = reference.get("optional", False)
    if source is None:
        if optional:
            return None
        raise ContainerConfigError(f'{kind} "{reference["name"]}" not found')
    data = source.get("data") or {}
    if reference["key"] not in data:
        if optional:
            return None
        raise ContainerConfigError(f'couldn\'t find key {reference["key"]} in {kind} {reference["name"]}')
    return decode(data[reference["key"]])
