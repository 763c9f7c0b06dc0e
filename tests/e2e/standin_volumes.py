"""A pod's volumes as directories on the host, and the bind mounts that put them into containers.

Each volume but hostPath lives in the pod's directory, volumes/NAME: configMap and secret files
written from the object's data with their modes and, given an fsGroup, the group ownership
kubelet's SetVolumeOwnership gives them; emptyDir a directory anyone may write, a tmpfs for
medium Memory. hostPath is the host's own path.
"""

import base64
import dataclasses
import os
import shutil
import stat
import subprocess

from standin_errors import ContainerConfigError, VolumeSetupError
from standin_quantity import memory_bytes

DEFAULT_FILE_MODE = 0o644


@dataclasses.dataclass
class Volume:
    host_path: str
    read_only: bool  # configMap and secret volumes are read-only whatever a volumeMount says


def set_up_volumes(pod, pod_dir, read_config_map, read_secret):
    """{volume name: Volume} for every volume of the pod; raises VolumeSetupError when one cannot
    be set up yet (its ConfigMap or Secret missing, a hostPath of the wrong type)."""
    fs_group = (pod["spec"].get("securityContext") or {}).get("fsGroup")
    volumes = {}
    for volume in pod["spec"].get("volumes") or []:
        name = volume["name"]
        directory = os.path.join(pod_dir, "volumes", name)
        try:
            if "configMap" in volume:
                volumes[name] = _config_map_volume(volume["configMap"], directory, fs_group, read_config_map)
            elif "secret" in volume:
                volumes[name] = _secret_volume(volume["secret"], directory, fs_group, read_secret)
            elif "emptyDir" in volume:
                volumes[name] = _empty_dir(volume["emptyDir"] or {}, directory, fs_group)
            elif "hostPath" in volume:
                volumes[name] = _host_path(volume["hostPath"])
            else:
                kinds = sorted(set(volume) - {"name"})
                raise VolumeSetupError(f"volume type {kinds} is not supported by the kubelet stand-in "
                                       "(configMap, secret, emptyDir and hostPath are)")
        except VolumeSetupError as error:
            raise VolumeSetupError(f'MountVolume.SetUp failed for volume "{name}": {error}') from None
    return volumes


def mount_arguments(container, volumes):
    """podman --mount arguments for the container's volumeMounts."""
    arguments = []
    for mount in container.get("volumeMounts") or []:
        volume = volumes.get(mount["name"])
        if volume is None:
            raise ContainerConfigError(f'volumeMount "{mount["name"]}" names no volume of the pod')
        if mount.get("subPathExpr"):
            raise ContainerConfigError("subPathExpr is not supported by the kubelet stand-in")
        source = volume.host_path
        if mount.get("subPath"):
            source = _sub_path(volume.host_path, mount["subPath"])
        destination = mount["mountPath"]
        if "," in source + destination:
            raise ContainerConfigError(f"a path with a comma cannot be mounted: {source} -> {destination}")
        read_only = volume.read_only or mount.get("readOnly", False)
        arguments += ["--mount", f"type=bind,source={source},destination={destination}"
                                 + (",ro=true" if read_only else "")]
    return arguments


def tear_down_volumes(pod_dir):
    unmount_all_under(pod_dir)
    shutil.rmtree(pod_dir, ignore_errors=True)


def unmount_all_under(directory):
    """Unmounts the tmpfs volumes below DIRECTORY (also those a killed stand-in left behind)."""
    prefix = os.path.abspath(directory) + os.sep
    with open("/proc/self/mountinfo") as mounts:
        # Field 5 is the mount point, with spaces and the like written as octal escapes.
        points = [line.split()[4].encode().decode("unicode_escape") for line in mounts]
    for point in sorted((point for point in points if point.startswith(prefix)), reverse=True):
        if subprocess.run(["umount", point], capture_output=True).returncode != 0:
            subprocess.run(["umount", "--lazy", point], capture_output=True)


# --- the volume types ----------------------------------------------------------------------------

def _config_map_volume(source, directory, fs_group, read_config_map):
    config_map = read_config_map(source["name"])
    if config_map is None and not source.get("optional"):
        raise VolumeSetupError(f'configmap "{source["name"]}" not found')
    files = {key: value.encode() for key, value in ((config_map or {}).get("data") or {}).items()}
    files.update({key: base64.b64decode(value)
                  for key, value in ((config_map or {}).get("binaryData") or {}).items()})
    _write_files(directory, files, source, fs_group, f'configmap "{source["name"]}"')
    return Volume(directory, read_only=True)


def _secret_volume(source, directory, fs_group, read_secret):
    secret = read_secret(source["secretName"])
    if secret is None and not source.get("optional"):
        raise VolumeSetupError(f'secret "{source["secretName"]}" not found')
    files = {key: base64.b64decode(value) for key, value in ((secret or {}).get("data") or {}).items()}
    # A real API server folds stringData into data; a schemaless fake may keep it as written.
    files.update({key: value.encode() for key, value in ((secret or {}).get("stringData") or {}).items()})
    _write_files(directory, files, source, fs_group, f'secret "{source["secretName"]}"')
    return Volume(directory, read_only=True)


def _write_files(directory, files, source, fs_group, what):
    """Writes FILES (or the `items` of SOURCE) with `mode`/`defaultMode`; with an fsGroup, files
    and directories get that group and group read, as SetVolumeOwnership does for a read-only
    volume."""
    default_mode = source.get("defaultMode", DEFAULT_FILE_MODE)
    if source.get("items"):
        wanted = []
        for item in source["items"]:
            if item["key"] not in files:
                if source.get("optional"):
                    continue
                raise VolumeSetupError(f"{what} has no key {item['key']}")
            wanted.append((item["path"], files[item["key"]], item.get("mode", default_mode)))
    else:
        wanted = [(key, content, default_mode) for key, content in files.items()]

    shutil.rmtree(directory, ignore_errors=True)  # a retry starts over
    _make_directory(directory, 0o755, fs_group)
    for relative, content, mode in wanted:
        path = _inside(directory, relative)
        parent = os.path.dirname(path)
        if not os.path.isdir(parent):
            os.makedirs(parent)
            _own_tree(directory, parent, fs_group)
        with open(path, "wb") as output:
            output.write(content)
        if fs_group is not None:
            os.chown(path, -1, fs_group)
            mode |= 0o440
        os.chmod(path, mode)


def _own_tree(top, directory, fs_group):
    """Gives the directories from DIRECTORY up to TOP the volume's directory mode and group."""
    while os.path.abspath(directory) != os.path.abspath(top):
        _make_directory(directory, 0o755, fs_group)
        directory = os.path.dirname(directory)


def _empty_dir(source, directory, fs_group):
    medium = source.get("medium", "")
    if medium not in ("", "Memory"):
        raise VolumeSetupError(f"emptyDir medium {medium} is not supported by the kubelet stand-in")
    _make_directory(directory, 0o777, fs_group)
    if medium == "Memory" and not os.path.ismount(directory):
        options = "mode=0777"
        if source.get("sizeLimit"):
            options += f",size={memory_bytes(source['sizeLimit'])}"
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", directory],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise VolumeSetupError(f"mounting a tmpfs failed: {result.stderr.strip()}")
        _make_directory(directory, 0o777, fs_group)  # the tmpfs's own root, now
    return Volume(directory, read_only=False)


def _make_directory(directory, mode, fs_group):
    os.makedirs(directory, exist_ok=True)
    if fs_group is not None:
        os.chown(directory, -1, fs_group)
        mode |= stat.S_ISGID | 0o050  # new files inherit the group
    os.chmod(directory, mode)


_HOST_PATH_CHECKS = {
    "Directory": (stat.S_ISDIR, "a directory"),
    "File": (stat.S_ISREG, "a file"),
    "Socket": (stat.S_ISSOCK, "a socket"),
    "CharDevice": (stat.S_ISCHR, "a character device"),
    "BlockDevice": (stat.S_ISBLK, "a block device"),
}


def _host_path(source):
    path, kind = source["path"], source.get("type", "")
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate" and not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "a"):
            pass
        os.chmod(path, 0o644)
    elif kind in _HOST_PATH_CHECKS:
        is_kind, description = _HOST_PATH_CHECKS[kind]
        try:
            matches = is_kind(os.stat(path).st_mode)
        except FileNotFoundError:
            raise VolumeSetupError(f"hostPath type check failed: {path} does not exist") from None
        if not matches:
            raise VolumeSetupError(f"hostPath type check failed: {path} is not {description}")
    elif kind not in ("", "DirectoryOrCreate", "FileOrCreate"):
        raise VolumeSetupError(f"hostPath type {kind} is not supported")
    return Volume(path, read_only=False)


def _inside(directory, relative):
    """DIRECTORY/RELATIVE, refusing a path that would leave DIRECTORY."""
    path = os.path.normpath(os.path.join(directory, relative))
    if os.path.isabs(relative) or not path.startswith(os.path.abspath(directory) + os.sep):
        raise VolumeSetupError(f"path {relative!r} leaves the volume")
    return path


def _sub_path(volume_path, sub_path):
    """The subPath's host path; a missing one is made a directory, as kubelet does."""
    if os.path.isabs(sub_path) or ".." in sub_path.split("/"):
        raise ContainerConfigError(f"subPath {sub_path!r} must be a relative path inside the volume")
    path = os.path.join(volume_path, sub_path)
    if not os.path.exists(path):
        os.makedirs(path)
        os.chmod(path, stat.S_IMODE(os.stat(volume_path).st_mode))
    return path
