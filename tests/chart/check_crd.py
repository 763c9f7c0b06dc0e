#!/usr/bin/python3
"""Checks a CustomResourceDefinition beyond what its OpenAPI schema can express.

- The schema is structural, as the API server requires of apiextensions.k8s.io/v1 CRDs
  (https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#specifying-a-structural-schema):
  every node has a type unless it is int-or-string or preserves unknown fields; anyOf/allOf/oneOf/not
  hold no type, description, default, nullable or additionalProperties (except the int-or-string
  form); properties and additionalProperties never meet; metadata at the root is only typed.
- Every field has a description, so that `kubectl explain` documents it.
- Defaults are valid against their own schema and enum values match their type.
- List-map keys are required in the items.
- Every printer column's jsonPath names a field of the schema with a matching type.
Usage: check_crd.py CRD.yaml
"""
import argparse
import sys

import yaml

JUNCTORS = ("anyOf", "allOf", "oneOf", "not")
FORBIDDEN_IN_JUNCTORS = ("type", "description", "default", "nullable", "additionalProperties")
PYTHON_TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "object": dict,
    "array": list,
}
PRINTER_TYPES = {
    "string": {"string"},
    "integer": {"integer"},
    "number": {"number", "integer"},
    "boolean": {"boolean"},
    "date": {"string"},
}


class Checker:
    def __init__(self):
        self.errors = []

    def error(self, path, message):
        self.errors.append(f"{path}: {message}")

    def is_int_or_string(self, node):
        return node.get("x-kubernetes-int-or-string") is True

    def check_junctor(self, path, node, int_or_string):
        branches = node if isinstance(node, list) else [node]
        for i, branch in enumerate(branches):
            where = f"{path}[{i}]"
            for key in FORBIDDEN_IN_JUNCTORS:
                allowed = int_or_string and key == "type" and branch.get("type") in ("integer", "string")
                if key in branch and not allowed:
                    self.error(where, f"{key} is not allowed inside a junctor of a structural schema")
            for name, child in branch.get("properties", {}).items():
                self.check_junctor(f"{where}.{name}", child, False)

    def check_value_type(self, path, node, value, what):
        expected = node.get("type")
        if expected is None:
            if self.is_int_or_string(node) and not isinstance(value, (int, str)):
                self.error(path, f"{what} {value!r} is neither an integer nor a string")
            return
        python_type = PYTHON_TYPES[expected]
        if not isinstance(value, python_type) or (expected != "boolean" and isinstance(value, bool)):
            self.error(path, f"{what} {value!r} is not of type {expected}")
            return
        if "enum" in node and what == "default" and value not in node["enum"]:
            self.error(path, f"default {value!r} is not one of {node['enum']}")
        if isinstance(value, dict):
            for name, child in node.get("properties", {}).items():
                if name in value:
                    self.check_value_type(f"{path}.{name}", child, value[name], what)

    def check_node(self, path, node, is_root=False, preserved=False, documented=True):
        """documented: the node is a field and needs its own description (array items and map
        values are documented by their parent)."""
        if not isinstance(node, dict):
            self.error(path, "schema node is not a mapping")
            return
        preserves = node.get("x-kubernetes-preserve-unknown-fields") is True
        int_or_string = self.is_int_or_string(node)
        if "type" not in node and not (int_or_string or preserves or preserved):
            self.error(path, "has no type (structural schemas type every node)")
        if "type" in node and node["type"] not in PYTHON_TYPES:
            self.error(path, f"unknown type {node['type']!r}")
        if int_or_string and "type" in node:
            self.error(path, "x-kubernetes-int-or-string must not set type")
        if int_or_string:
            types = sorted(branch.get("type", "") for branch in node.get("anyOf", []))
            if types != ["integer", "string"]:
                self.error(path, "x-kubernetes-int-or-string needs anyOf: [{type: integer}, {type: string}]")
        if documented and not is_root and "description" not in node:
            self.error(path, "has no description (kubectl explain shows nothing)")
        if "properties" in node and "additionalProperties" in node:
            self.error(path, "sets both properties and additionalProperties")
        for junctor in JUNCTORS:
            if junctor in node:
                self.check_junctor(f"{path}.{junctor}", node[junctor], int_or_string)
        if "default" in node:
            self.check_value_type(path, node, node["default"], "default")
        for value in node.get("enum", []):
            self.check_value_type(path, {"type": node.get("type")} if "type" in node else node, value, "enum value")
        if "x-kubernetes-list-map-keys" in node:
            required = node.get("items", {}).get("required", [])
            for key in node["x-kubernetes-list-map-keys"]:
                if key not in required:
                    self.error(path, f"list-map key {key!r} must be required in the items")
        for rule in node.get("x-kubernetes-validations", []):
            if "rule" not in rule or not ("message" in rule or "messageExpression" in rule):
                self.error(path, "a validation rule needs rule and message or messageExpression")
        child_preserved = preserved or preserves
        for name, child in node.get("properties", {}).items():
            if is_root and name == "metadata":
                extra = set(child) - {"type"}
                if child.get("type") != "object" or extra:
                    self.error(f"{path}.metadata", "at the root, metadata may only set type: object")
                continue
            self.check_node(f"{path}.{name}", child, preserved=child_preserved)
        if isinstance(node.get("additionalProperties"), dict):
            self.check_node(f"{path}.additionalProperties", node["additionalProperties"],
                            preserved=child_preserved, documented=False)
        if "items" in node:
            self.check_node(f"{path}.items", node["items"], preserved=child_preserved, documented=False)
        if node.get("type") == "array" and "items" not in node:
            self.error(path, "an array needs items")


def schema_at(schema, json_path):
    """The schema node a printer column's simple jsonPath (.a.b.c) points at, or None."""
    node = schema
    for part in json_path.strip(".").split("."):
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node


def main():
    parser = argparse.ArgumentParser(description="Checks a CRD is structural and documented.")
    parser.add_argument("crd", type=argparse.FileType("r", encoding="utf-8"))
    args = parser.parse_args()
    crd = yaml.safe_load(args.crd)
    name = args.crd.name
    checker = Checker()
    storage_versions = [v["name"] for v in crd["spec"]["versions"] if v.get("storage")]
    if len(storage_versions) != 1:
        checker.error("spec.versions", f"exactly one version must be the storage version, got {storage_versions}")
    for version in crd["spec"]["versions"]:
        prefix = f"versions[{version['name']}]"
        schema = version.get("schema", {}).get("openAPIV3Schema")
        if schema is None:
            checker.error(prefix, "has no openAPIV3Schema")
            continue
        if schema.get("type") != "object":
            checker.error(prefix, "the root schema must be type: object")
        checker.check_node(prefix, schema, is_root=True)
        for column in version.get("additionalPrinterColumns", []):
            if column["jsonPath"] == ".metadata.creationTimestamp":
                continue
            target = schema_at(schema, column["jsonPath"])
            if target is None:
                checker.error(prefix, f"printer column {column['name']} points at {column['jsonPath']}, "
                              "which the schema does not define")
            elif target.get("type") not in PRINTER_TYPES[column["type"]]:
                checker.error(prefix, f"printer column {column['name']} is {column['type']} but "
                              f"{column['jsonPath']} is {target.get('type')}")
    for message in checker.errors:
        print(f"{name}: {message}", file=sys.stderr)
    if checker.errors:
        return 1
    print(f"{name}: structural, documented, defaults and printer columns consistent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
