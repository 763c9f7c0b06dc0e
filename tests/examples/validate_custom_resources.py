#!/usr/bin/python3
"""Validates custom resources against their CRD's OpenAPI v3 schema as the API server would.

Defaults from the schema are applied first, then the object is checked with python3-jsonschema
against the schema translated to JSON Schema: OpenAPI's boolean exclusiveMinimum/exclusiveMaximum
become numeric bounds, nullable adds null, and fields the schema does not list are rejected (what
kubectl's default strict field validation reports) except under x-kubernetes-preserve-unknown-fields.
The CRD's CEL rules are evaluated afterwards by eval_cel_rules.js, which reads this script's output.

Usage: validate_custom_resources.py [--also-crd CRD.yaml]... CRD.yaml RESOURCE.yaml...
Each document of the RESOURCE files must be of the kind CRD.yaml defines or of a kind an
--also-crd defines (Kueue's queue objects beside a queued TrainingJob, say). Prints {"crd": CRD.yaml,
"crds": [every CRD], "objects": [{"file": ..., "object": defaulted object}]} as JSON on stdout and
exits 1 when a resource is invalid (each error on stderr, with file and field path).
"""
import argparse
import copy
import json
import sys

import jsonschema
import yaml


def to_json_schema(node, is_root=False):
    """Translates one structural OpenAPI v3 schema node (and its children) to JSON Schema draft 7."""
    out = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("description", "default", "nullable", "format"):
            continue
        if key == "properties":
            out[key] = {name: to_json_schema(child) for name, child in value.items()}
        elif key in ("items", "additionalProperties", "not") and isinstance(value, dict):
            out[key] = to_json_schema(value)
        elif key in ("anyOf", "allOf", "oneOf"):
            out[key] = [to_json_schema(branch) for branch in value]
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            continue  # handled with minimum and maximum below
        else:
            out[key] = copy.deepcopy(value)
    for bound, exclusive in (("minimum", "exclusiveMinimum"), ("maximum", "exclusiveMaximum")):
        if node.get(exclusive) is True and bound in out:
            out[exclusive] = out.pop(bound)
    if node.get("nullable") is True and "type" in out:
        out["type"] = [out["type"], "null"]
    preserves = node.get("x-kubernetes-preserve-unknown-fields") is True
    if node.get("type") == "object" and "additionalProperties" not in node and not preserves:
        out["additionalProperties"] = False
    if is_root:
        out["properties"]["metadata"] = {"type": "object"}
    return out


def apply_defaults(node, value):
    """Fills in schema defaults the way the API server does, recursing into present values."""
    if isinstance(value, dict):
        for name, child in node.get("properties", {}).items():
            if name not in value and "default" in child:
                value[name] = copy.deepcopy(child["default"])
            if name in value:
                apply_defaults(child, value[name])
        if isinstance(node.get("additionalProperties"), dict):
            listed = node.get("properties", {})
            for name, item in value.items():
                if name not in listed:
                    apply_defaults(node["additionalProperties"], item)
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for item in value:
            apply_defaults(node["items"], item)


def field_path(error):
    return ".".join(str(part) for part in error.absolute_path) or "<root>"


def load_crd(path):
    with open(path, encoding="utf-8") as stream:
        return next(document for document in yaml.safe_load_all(stream) if document)


def main():
    parser = argparse.ArgumentParser(description="Validates custom resources against their CRDs' schemas.")
    parser.add_argument("--also-crd", action="append", default=[], metavar="CRD.yaml",
                        help="another CRD whose kind the resources may hold")
    parser.add_argument("crd")
    parser.add_argument("resources", nargs="+")
    args = parser.parse_args()
    crds = [load_crd(path) for path in [args.crd] + args.also_crd]
    # (kind, apiVersion) -> the served version's schema
    schemas = {(crd["spec"]["names"]["kind"], f"{crd['spec']['group']}/{v['name']}"): v["schema"]["openAPIV3Schema"]
               for crd in crds for v in crd["spec"]["versions"] if v.get("served")}
    results = []
    failed = False
    for path in args.resources:
        with open(path, encoding="utf-8") as stream:
            documents = [d for d in yaml.safe_load_all(stream) if d is not None]
        for document in documents:
            name = document.get("metadata", {}).get("name", "<unnamed>")
            where = f"{path}: {document.get('kind')} {name}"
            schema = schemas.get((document.get("kind"), document.get("apiVersion")))
            if schema is None:
                expected = ", ".join(f"{kind} {version}" for kind, version in sorted(schemas))
                print(f"{where}: expected one of the kinds and apiVersions {expected}", file=sys.stderr)
                failed = True
                continue
            apply_defaults(schema, document)
            validator = jsonschema.Draft7Validator(to_json_schema(schema, is_root=True))
            errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
            for error in errors:
                print(f"{where}: {field_path(error)}: {error.message}", file=sys.stderr)
            failed = failed or bool(errors)
            results.append({"file": path, "object": document})
    json.dump({"crd": crds[0], "crds": crds, "objects": results}, sys.stdout)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
