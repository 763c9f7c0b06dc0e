#!/usr/bin/python3
"""Every field of the CRD's spec and status must appear, as `path`, in the field reference of the
user documentation, so that the documentation cannot fall behind the CRD.

Usage: check_crd_documented.py CRD.yaml DOC.md
"""
import sys

import yaml


def field_paths(node, prefix):
    for name, child in node.get("properties", {}).items():
        path = f"{prefix}.{name}"
        yield path
        yield from field_paths(child, path)
        if child.get("type") == "array":
            yield from field_paths(child.get("items", {}), f"{path}[]")


def main():
    if len(sys.argv) != 3:
        print("usage: check_crd_documented.py CRD.yaml DOC.md", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as stream:
        crd = yaml.safe_load(stream)
    with open(sys.argv[2], encoding="utf-8") as stream:
        doc = stream.read()
    missing = []
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        for section in ("spec", "status"):
            missing += [p for p in field_paths(schema["properties"][section], section) if f"`{p}`" not in doc]
    for path in missing:
        print(f"{sys.argv[2]}: CRD field {path} is not documented", file=sys.stderr)
    if not missing:
        print(f"{sys.argv[2]}: documents every field of {sys.argv[1]}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
