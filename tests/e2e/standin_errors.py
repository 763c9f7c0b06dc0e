"""Why a pod or one of its containers cannot start yet; each maps to what a kubelet reports."""


class ContainerConfigError(Exception):
    """The container's spec cannot be turned into a container (waiting: CreateContainerConfigError)."""


class VolumeSetupError(Exception):
    """A volume of the pod cannot be set up yet; the pod stays ContainerCreating and is retried."""


class PodmanError(Exception):
    """podman refused; the message is podman's own."""
