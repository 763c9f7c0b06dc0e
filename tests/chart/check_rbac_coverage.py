#!/usr/bin/python3
"""Checks that the chart's RBAC allows every API request the operator made, and lists the grants
it never used.

The requests are the fake API server's log (GET /fake/requests) of an operator run, less the test's
own requests: a JSON list of {"verb", "path", "resource", "namespace"}, where resource is "pods",
"trainingjobs.kubetrain.dev" or "trainingjobs.kubetrain.dev/status". A request is allowed, as the
Kubernetes RBAC authorizer decides it, when a rule of a role bound to the operator's ServiceAccount
matches its API group, resource (with subresource), verb and, for rules with resourceNames, its
object name; a RoleBinding's rules apply only inside the binding's namespace, so requests across all
namespaces need a ClusterRoleBinding.

Usage: check_rbac_coverage.py MANIFESTS.yaml REQUESTS.json [--require VERB:RESOURCE ...]
                              [--refuse VERB:RESOURCE ...]
--require names requests the run must contain, so that a run that exercised nothing cannot pass;
--refuse names requests the operator must never make, allowed or not (reading Secrets).
"""
import argparse
import json
import sys
from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class Request:
    verb: str
    group: str
    resource: str  # plural, with "/subresource"
    namespace: str
    name: str

    def describe(self):
        where = f"in namespace {self.namespace}" if self.namespace else "across all namespaces"
        group = self.group or "core"
        return f"{self.verb} {self.resource} ({group}) {where}" + (f" name {self.name}" if self.name else "")


# Non-resource URLs every authenticated client may read (the system:discovery and
# system:public-info-viewer ClusterRoles): discovery documents under /api and /apis (the fake server
# logs those without a resource), /openapi, the version and the health endpoints. Anything else
# needs a grant the chart does not give.
DISCOVERY_PATHS = {"/version", "/api", "/apis", "/healthz", "/livez", "/readyz"}
DISCOVERY_PREFIXES = ("/api/", "/apis/", "/openapi/")


def is_discovery(path):
    path = path.split("?")[0].rstrip("/")
    return path in DISCOVERY_PATHS or path.startswith(DISCOVERY_PREFIXES)


def parse_request(entry):
    """Request from one log entry; the object name comes from the path."""
    resource, _, subresource = entry["resource"].partition("/")
    plural, _, group = resource.partition(".")
    parts = entry["path"].split("?")[0].strip("/").split("/")
    # /api/v1[/namespaces/NS]/PLURAL[/NAME[/SUB]] or /apis/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUB]]
    parts = parts[2:] if parts[0] == "api" else parts[3:]
    if parts[:1] == ["namespaces"] and len(parts) > 2:
        parts = parts[2:]
    name = parts[1] if len(parts) > 1 else ""
    full = f"{plural}/{subresource}" if subresource else plural
    return Request(entry["verb"], group, full, entry.get("namespace", ""), name)


def operator_grants(objects):
    """(scope, rule) pairs bound to the operator's ServiceAccount; scope is a namespace or None
    (cluster-wide)."""
    deployments = [o for o in objects if o["kind"] == "Deployment"]
    if len(deployments) != 1:
        raise SystemExit(f"expected one Deployment in the manifests, found {len(deployments)}")
    account = deployments[0]["spec"]["template"]["spec"]["serviceAccountName"]
    account_namespace = deployments[0]["metadata"]["namespace"]
    roles = {(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]): o
             for o in objects if o["kind"] in ("Role", "ClusterRole")}
    grants = []
    for binding in (o for o in objects if o["kind"] in ("RoleBinding", "ClusterRoleBinding")):
        if not any(s["kind"] == "ServiceAccount" and s["name"] == account
                   and s.get("namespace") == account_namespace for s in binding.get("subjects", [])):
            continue
        scope = binding["metadata"].get("namespace") if binding["kind"] == "RoleBinding" else None
        ref = binding["roleRef"]
        role = roles.get((ref["kind"], scope if ref["kind"] == "Role" else None, ref["name"]))
        if role is None:
            raise SystemExit(f"{binding['kind']} {binding['metadata']['name']} refers to a missing "
                             f"{ref['kind']} {ref['name']}")
        grants += [(scope, rule) for rule in role.get("rules", [])]
    return grants


def allows(scope, rule, request):
    if scope is not None and request.namespace != scope:
        return False
    if request.group not in rule.get("apiGroups", []) or request.resource not in rule.get("resources", []):
        return False
    if request.verb not in rule.get("verbs", []):
        return False
    names = rule.get("resourceNames")
    return not names or request.name in names


def main():
    parser = argparse.ArgumentParser(description="Checks the chart's RBAC covers the operator's requests.")
    parser.add_argument("manifests", type=argparse.FileType("r", encoding="utf-8"))
    parser.add_argument("requests", type=argparse.FileType("r", encoding="utf-8"))
    parser.add_argument("--require", action="append", default=[],
                        help="VERB:RESOURCE the run must contain, e.g. create:pods")
    parser.add_argument("--refuse", action="append", default=[],
                        help="VERB:RESOURCE the operator must never request, e.g. get:secrets")
    args = parser.parse_args()
    grants = operator_grants([o for o in yaml.safe_load_all(args.manifests) if o])
    entries = json.load(args.requests)
    non_resource = sorted({e["path"] for e in entries if not e.get("resource")})
    requests = sorted({parse_request(e) for e in entries if e.get("resource")},
                      key=lambda r: (r.resource, r.verb, r.namespace, r.name))
    forbidden_paths = [path for path in non_resource if not is_discovery(path)]

    used = set()
    denied = []
    for request in requests:
        matching = [i for i, (scope, rule) in enumerate(grants) if allows(scope, rule, request)]
        if matching:
            used.update((i, request.verb, request.resource) for i in matching)
        else:
            denied.append(request)
    made = {f"{r.verb}:{r.resource}" for r in requests}
    missing = [needed for needed in args.require if needed not in made]
    refused = [request for request in requests if f"{request.verb}:{request.resource}" in args.refuse]

    print(f"{len(requests)} distinct requests of the operator:")
    for request in requests:
        print(f"  {'DENIED ' if request in denied else 'allowed'} {request.describe()}")
    for i, (scope, rule) in enumerate(grants):
        for resource in rule["resources"]:
            for verb in rule["verbs"]:
                if (i, verb, resource) not in used:
                    print(f"  unused grant: {verb} {resource} ({scope or 'cluster-wide'}): no request "
                          "of this run needed it")
    for path in non_resource:
        print(f"  {'DENIED ' if path in forbidden_paths else 'allowed'} non-resource GET {path}")
    for request in denied:
        print(f"FAIL: the chart's RBAC denies {request.describe()}", file=sys.stderr)
    for path in forbidden_paths:
        print(f"FAIL: non-resource URL {path} is not open to every client and the chart grants none",
              file=sys.stderr)
    for needed in missing:
        print(f"FAIL: the run made no {needed} request, so it exercised too little", file=sys.stderr)
    for request in refused:
        print(f"FAIL: the operator made a request it must never make: {request.describe()}", file=sys.stderr)
    return 1 if denied or missing or forbidden_paths or refused else 0


if __name__ == "__main__":
    sys.exit(main())
