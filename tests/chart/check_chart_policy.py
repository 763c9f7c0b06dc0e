#!/usr/bin/python3
"""Checks what the chart promises beyond schema validity, on manifests rendered by helm template.

Usage: check_chart_policy.py MANIFESTS.yaml --release-namespace NS [--watch-namespace NS]
                             [--replicas N] [--service-monitor] [--gang-schedulers LIST] [--kueue]
Checks: the operator container's security context, probes, resources and exact flags; RBAC without
wildcards, pod exec/attach or reading Secrets, on PodGroups only of the gang schedulers enabled,
on Kueue's objects exactly the grants --kueue needs and only with it, cluster-wide or confined to
the watched namespace (but for Kueue's cluster-scoped objects, in a ClusterRole of their own), the
Lease Role in the release namespace; the metrics Service selecting the operator pods; a PodDisruptionBudget exactly
when there are several replicas; the ServiceMonitor only when asked for.
"""
import argparse
import sys

import yaml

FORBIDDEN_RESOURCES = {"pods/exec", "pods/attach", "pods/portforward", "nodes/proxy", "services/proxy"}
# The operator creates each job's SSH Secret and never reads one: whoever takes over its account
# must not read the cluster's Secrets.
SECRET_READ_VERBS = {"get", "list", "watch"}
# The API group of each gang scheduler's PodGroup (values gangScheduling.*, --gang-schedulers).
GANG_GROUPS = {"volcano": "scheduling.volcano.sh", "coscheduling": "scheduling.x-k8s.io"}
# The grants of the operator with --kueue (value kueue.enabled), by (API group, resource): on the
# Workloads in the watched namespaces, and on the cluster-scoped objects an admission refers to,
# which only a ClusterRole can grant.
KUEUE_NAMESPACED = {
    ("kueue.x-k8s.io", "workloads"): {"get", "list", "watch", "create", "update", "delete"},
    ("kueue.x-k8s.io", "workloads/status"): {"update"},
    ("kueue.x-k8s.io", "workloads/finalizers"): {"update"},
}
KUEUE_CLUSTER = {
    ("kueue.x-k8s.io", "resourceflavors"): {"get", "list", "watch"},
    ("scheduling.k8s.io", "priorityclasses"): {"get", "list", "watch"},
}


def grants(role):
    """{(API group, resource): verbs} of a role's rules."""
    granted = {}
    for rule in role.get("rules", []):
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                granted.setdefault((group, resource), set()).update(rule.get("verbs", []))
    return granted


class Policy:
    def __init__(self, objects, args):
        self.objects = objects
        self.args = args
        self.errors = []

    def error(self, message):
        self.errors.append(message)

    def of_kind(self, kind):
        return [o for o in self.objects if o["kind"] == kind]

    def check_deployment(self):
        deployments = self.of_kind("Deployment")
        if len(deployments) != 1:
            self.error(f"expected one Deployment, found {len(deployments)}")
            return None
        deployment = deployments[0]
        spec = deployment["spec"]
        if spec.get("replicas") != self.args.replicas:
            self.error(f"Deployment replicas {spec.get('replicas')}, expected {self.args.replicas}")
        pod = spec["template"]["spec"]
        containers = pod["containers"]
        if len(containers) != 1:
            self.error(f"expected one operator container, found {len(containers)}")
            return deployment
        container = containers[0]
        if not container["image"].startswith("kubetrain-operator:"):
            self.error(f"operator image is {container['image']}")
        security = container.get("securityContext", {})
        pod_security = pod.get("securityContext", {})
        expectations = {
            "runAsNonRoot": True,
            "readOnlyRootFilesystem": True,
            "allowPrivilegeEscalation": False,
        }
        for key, value in expectations.items():
            if security.get(key) != value:
                self.error(f"operator securityContext.{key} is {security.get(key)!r}, expected {value!r}")
        if "ALL" not in security.get("capabilities", {}).get("drop", []):
            self.error("operator securityContext.capabilities.drop must contain ALL")
        seccomp = security.get("seccompProfile") or pod_security.get("seccompProfile") or {}
        if seccomp.get("type") != "RuntimeDefault":
            self.error("operator seccompProfile must be RuntimeDefault")
        ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
        for probe_name, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            probe = container.get(probe_name, {}).get("httpGet", {})
            if probe.get("path") != path or probe.get("port") not in ("metrics", ports.get("metrics")):
                self.error(f"{probe_name} must GET {path} on the metrics port, got {probe}")
        resources = container.get("resources", {})
        if "memory" not in resources.get("limits", {}) or "cpu" not in resources.get("requests", {}):
            self.error("operator resources need a memory limit and a cpu request")
        self.check_flags(container.get("args", []), ports.get("metrics"))
        return deployment

    def check_flags(self, args, metrics_port):
        flags = {}
        for arg in args:
            name, _, value = arg.partition("=")
            flags[name] = value
        expected = {
            "--leader-elect": "",
            "--leader-election-namespace": self.args.release_namespace,
            "--leader-election-id": "kubetrain-operator",
            "--threads": None,
            "--qps": None,
            "--burst": None,
            "--metrics-addr": f":{metrics_port}",
            "--log-format": None,
            "--log-level": None,
        }
        if self.args.watch_namespace:
            expected["--namespace"] = self.args.watch_namespace
        if self.args.gang_schedulers:
            expected["--gang-schedulers"] = self.args.gang_schedulers
        if self.args.kueue:
            expected["--kueue"] = ""
        for flag, value in expected.items():
            if flag not in flags:
                self.error(f"operator args lack {flag}")
            elif value is not None and flags[flag] != value:
                self.error(f"operator arg {flag}={flags[flag]}, expected {value!r}")
        unexpected = set(flags) - set(expected)
        if unexpected:
            self.error(f"operator args hold unexpected flags {sorted(unexpected)}")

    def check_rbac(self):
        for role in self.of_kind("ClusterRole") + self.of_kind("Role"):
            for rule in role.get("rules", []):
                for field in ("apiGroups", "resources", "verbs"):
                    if "*" in rule.get(field, []):
                        self.error(f"{role['kind']} {role['metadata']['name']} has a wildcard in {field}")
                bad = FORBIDDEN_RESOURCES & set(rule.get("resources", []))
                if bad:
                    self.error(f"{role['kind']} {role['metadata']['name']} grants {sorted(bad)}")
                if "podgroups" in rule.get("resources", []):
                    enabled = {GANG_GROUPS[name] for name in self.args.gang_schedulers.split(",") if name}
                    for group in set(rule.get("apiGroups", [])) - enabled:
                        self.error(f"{role['kind']} {role['metadata']['name']} grants {group} podgroups, "
                                   "but that gang scheduler is not enabled")
                reads = SECRET_READ_VERBS & set(rule.get("verbs", []))
                if "" in rule.get("apiGroups", []) and "secrets" in rule.get("resources", []) and reads:
                    self.error(f"{role['kind']} {role['metadata']['name']} lets the operator read "
                               f"Secrets ({', '.join(sorted(reads))}); it may only create them")
        cluster_roles = self.of_kind("ClusterRole")
        roles = self.of_kind("Role")
        lease_roles = [r for r in roles if any("leases" in rule["resources"] for rule in r["rules"])]
        if len(lease_roles) != 1 or lease_roles[0]["metadata"].get("namespace") != self.args.release_namespace:
            self.error("the Lease Role must exist once, in the release namespace")
        for role in cluster_roles + roles:
            for rule in role["rules"]:
                if "leases" in rule["resources"] and role not in lease_roles:
                    self.error(f"{role['kind']} {role['metadata']['name']} must not grant leases")
        # With watchNamespace and Kueue, a ClusterRole holds only Kueue's cluster-scoped objects.
        kueue_cluster_roles = [r for r in cluster_roles if self.args.watch_namespace
                               and set(grants(r)) <= set(KUEUE_CLUSTER)]
        job_roles = [r for r in cluster_roles + roles if r not in lease_roles + kueue_cluster_roles]
        if self.args.watch_namespace:
            expected = 1 if self.args.kueue else 0
            if (len(kueue_cluster_roles) != expected or len(cluster_roles) != expected
                    or len(self.of_kind("ClusterRoleBinding")) != expected):
                self.error("with watchNamespace set, no ClusterRole or ClusterRoleBinding may be rendered "
                           "but, with Kueue, one of each for Kueue's cluster-scoped objects")
            if [r["metadata"].get("namespace") for r in job_roles] != [self.args.watch_namespace]:
                self.error(f"the operator's Role must be in {self.args.watch_namespace} only")
        elif len(cluster_roles) != 1 or len(self.of_kind("ClusterRoleBinding")) != 1:
            self.error("without watchNamespace, one ClusterRole and one ClusterRoleBinding are expected")
        # Kueue's cluster-scoped objects: in that ClusterRole, or else in the operator's ClusterRole.
        self.check_kueue_rbac(job_roles, kueue_cluster_roles if self.args.watch_namespace else cluster_roles)
        for binding in self.of_kind("ClusterRoleBinding") + self.of_kind("RoleBinding"):
            target = binding["roleRef"]
            if not any(r["kind"] == target["kind"] and r["metadata"]["name"] == target["name"]
                       and r["metadata"].get("namespace") == binding["metadata"].get("namespace")
                       for r in cluster_roles + roles):
                self.error(f"{binding['kind']} {binding['metadata']['name']} refers to a missing {target['kind']}")

    def check_kueue_rbac(self, job_roles, cluster_roles):
        """Exactly Kueue's grants with --kueue, none without: the Workloads' in the operator's own
        role, the cluster-scoped objects' in a ClusterRole."""
        def granted(roles, key):
            return set().union(*(grants(r).get(key, set()) for r in roles))
        every_role = self.of_kind("ClusterRole") + self.of_kind("Role")
        known = {**KUEUE_NAMESPACED, **KUEUE_CLUSTER}
        for role in every_role:
            for group, resource in grants(role):
                if (group, resource) in known and not self.args.kueue:
                    self.error(f"{role['kind']} {role['metadata']['name']} grants {resource} ({group}), "
                               "but Kueue is not enabled")
                elif group == "kueue.x-k8s.io" and (group, resource) not in known:
                    self.error(f"{role['kind']} {role['metadata']['name']} grants {resource} ({group}), "
                               "which the operator does not use")
        if not self.args.kueue:
            return
        for key, verbs in KUEUE_NAMESPACED.items():
            if granted(job_roles, key) != verbs:
                self.error(f"the operator's role grants {sorted(granted(job_roles, key))} on {key[1]} "
                           f"({key[0]}), expected {sorted(verbs)}")
        for key, verbs in KUEUE_CLUSTER.items():
            if granted(cluster_roles, key) != verbs:
                self.error(f"a ClusterRole grants {sorted(granted(cluster_roles, key))} on the cluster-scoped "
                           f"{key[1]} ({key[0]}), expected {sorted(verbs)}")
            in_roles = granted(self.of_kind("Role"), key)
            if in_roles:
                self.error(f"a Role grants {sorted(in_roles)} on the cluster-scoped {key[1]}, which it cannot")

    def check_service_and_extras(self, deployment):
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"] if deployment else {}
        services = self.of_kind("Service")
        if len(services) != 1:
            self.error(f"expected one metrics Service, found {len(services)}")
        else:
            service = services[0]
            selector = service["spec"]["selector"]
            if any(pod_labels.get(k) != v for k, v in selector.items()):
                self.error("the metrics Service does not select the operator pods")
            if service["spec"]["ports"][0].get("targetPort") != "metrics":
                self.error("the metrics Service must target the metrics port")
        budgets = self.of_kind("PodDisruptionBudget")
        if (self.args.replicas > 1) != (len(budgets) == 1):
            self.error(f"{len(budgets)} PodDisruptionBudgets with {self.args.replicas} replicas")
        monitors = self.of_kind("ServiceMonitor")
        if self.args.service_monitor != (len(monitors) == 1):
            self.error(f"{len(monitors)} ServiceMonitors, expected {int(self.args.service_monitor)}")
        accounts = self.of_kind("ServiceAccount")
        if deployment and [a["metadata"]["name"] for a in accounts] != [
                deployment["spec"]["template"]["spec"]["serviceAccountName"]]:
            self.error("the Deployment must run as the chart's ServiceAccount")

    def run(self):
        deployment = self.check_deployment()
        self.check_rbac()
        self.check_service_and_extras(deployment)
        return self.errors


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("manifests")
    parser.add_argument("--release-namespace", required=True)
    parser.add_argument("--watch-namespace", default="")
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--service-monitor", action="store_true")
    parser.add_argument("--gang-schedulers", default="",
                        help="the --gang-schedulers the operator must get, e.g. volcano,coscheduling")
    parser.add_argument("--kueue", action="store_true", help="the operator must get --kueue (kueue.enabled)")
    args = parser.parse_args()
    with open(args.manifests, encoding="utf-8") as stream:
        objects = [o for o in yaml.safe_load_all(stream) if o]
    errors = Policy(objects, args).run()
    for message in errors:
        print(f"{args.manifests}: {message}", file=sys.stderr)
    if not errors:
        print(f"{args.manifests}: {len(objects)} objects follow the chart's policy")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
