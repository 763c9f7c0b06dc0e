"""The API calls the stand-in makes, on the official Kubernetes client, with objects as plain
dicts of the API's own JSON (camelCase), as `kubectl get -o json` shows them.

Responses are read with _preload_content=False: the client's models would reject objects a
schemaless API server keeps as written, and the 22.6 client cannot deserialize the Status a pods/
binding POST returns."""

import json

import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException
from kubernetes.watch.watch import iter_resp_lines

_TRANSIENT_STATUSES = {429, 500, 502, 503, 504}


def is_transient(error):
    """Whether trying again later may succeed: the API server overloaded, restarting or out of reach."""
    if isinstance(error, ApiException):
        return error.status in _TRANSIENT_STATUSES
    return isinstance(error, (urllib3.exceptions.HTTPError, OSError))


def describe(error):
    """One line about an API error: the status and the API server's message."""
    if isinstance(error, ApiException):
        try:
            message = json.loads(error.body).get("message")
        except (TypeError, ValueError, AttributeError):
            message = None
        return f"{error.status} {error.reason}" + (f": {message}" if message else "")
    return f"{type(error).__name__}: {error}"


def _json(response):
    return json.loads(response.data)


class KubeApi:
    def __init__(self, kubeconfig, namespace):
        self.namespace = namespace
        self.core = client.CoreV1Api(config.new_client_from_config(config_file=kubeconfig))

    # --- pods -------------------------------------------------------------------------------------

    def list_pods(self):
        """(pods, resourceVersion of the list)."""
        pods = _json(self.core.list_namespaced_pod(self.namespace, _preload_content=False))
        return pods.get("items") or [], pods["metadata"]["resourceVersion"]

    def watch_pods(self, resource_version, timeout_seconds):
        """Yields (event type, object) from RESOURCE_VERSION until the API server ends the watch;
        an ERROR event (410 Gone: the version expired) raises ApiException."""
        # watch.Watch would send watch=True, as Python spells it; client-go's "true" is what
        # every API server takes. Its retries after 410 are an informer's job, here the caller's.
        # No bookmarks: a watch taken up again from the last event it delivered, rather than from
        # a bookmark's newer version, gets again an event the API server failed to send.
        response = self.core.list_namespaced_pod(
            self.namespace, watch="true", resource_version=resource_version,
            timeout_seconds=timeout_seconds, _preload_content=False,
            # A connection that died without a word must not keep the watch waiting for good.
            _request_timeout=(10, timeout_seconds + 30))
        try:
            for line in iter_resp_lines(response):
                event = json.loads(line)
                if event["type"] == "ERROR":
                    status = event["object"]
                    raise ApiException(status=status.get("code"), reason=status.get("message"))
                yield event["type"], event["object"]
        finally:
            response.close()
            response.release_conn()

    def read_pod(self, name):
        """The pod, or None when there is none of that name."""
        try:
            return _json(self.core.read_namespaced_pod(name, self.namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def bind(self, pod, node):
        """Binds POD to NODE as kube-scheduler does (a Binding with the pod's uid as precondition)."""
        metadata = pod["metadata"]
        binding = client.V1Binding(
            metadata=client.V1ObjectMeta(name=metadata["name"], namespace=self.namespace, uid=metadata["uid"]),
            target=client.V1ObjectReference(api_version="v1", kind="Node", name=node))
        self.core.create_namespaced_pod_binding(metadata["name"], self.namespace, binding, _preload_content=False)

    def replace_pod_status(self, pod):
        """PUTs POD's status (optimistic concurrency on its resourceVersion: a stale one is 409)."""
        return _json(self.core.replace_namespaced_pod_status(pod["metadata"]["name"], self.namespace, pod,
                                                             _preload_content=False))

    def confirm_deletion(self, pod):
        """Deletes POD for good (grace period 0), as a kubelet confirms a graceful deletion once its
        containers are stopped; the uid precondition spares a new pod of the same name."""
        options = client.V1DeleteOptions(grace_period_seconds=0,
                                         preconditions=client.V1Preconditions(uid=pod["metadata"]["uid"]))
        try:
            self.core.delete_namespaced_pod(pod["metadata"]["name"], self.namespace, body=options,
                                            grace_period_seconds=0, _preload_content=False)
        except ApiException as error:
            if error.status not in (404, 409):  # gone already, or the name has a new pod
                raise

    def read_config_map(self, name):
        return self._read_or_none(self.core.read_namespaced_config_map, name)

    def read_secret(self, name):
        return self._read_or_none(self.core.read_namespaced_secret, name)

    def _read_or_none(self, read, name):
        try:
            return _json(read(name, self.namespace, _preload_content=False))
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    # --- the node ---------------------------------------------------------------------------------

    def register_node(self, name, labels):
        """Creates the Node, or takes over the one of that name with LABELS added."""
        try:
            self.core.create_node({"apiVersion": "v1", "kind": "Node",
                                   "metadata": {"name": name, "labels": labels}}, _preload_content=False)
            return
        except ApiException as error:
            if error.status != 409:
                raise
        while True:
            node = _json(self.core.read_node(name, _preload_content=False))
            node["metadata"]["labels"] = {**(node["metadata"].get("labels") or {}), **labels}
            node.setdefault("spec", {}).pop("unschedulable", None)
            try:
                self.core.replace_node(name, node, _preload_content=False)
                return
            except ApiException as error:
                if error.status != 409:
                    raise

    def write_node_status(self, name, status):
        # A JSON patch: the one patch type every API server takes (a fake may not know strategic).
        self.core.patch_node_status(name, [{"op": "add", "path": "/status", "value": status}],
                                    _preload_content=False)

    def delete_node(self, name):
        try:
            self.core.delete_node(name, _preload_content=False)
        except ApiException as error:
            if error.status != 404:
                raise
