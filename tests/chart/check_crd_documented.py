#!/usr/bin/python3
"""Every field of the CRD's spec and status must appear, as `path`, in the field reference of the
user documentation, so that the documentation cannot fall behind the CRD.

Usage: check_crd_documented.py CRD.yaml DOC.md
"""
import argparse
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
    parser = argparse.ArgumentParser(description="Checks the documentation names every CRD field.")
    parser.add_argument("crd", type=argparse.FileType("r", encoding="utf-8"))
    parser.add_argument("doc", type=argparse.FileType("r", encoding="utf-8"))
    args = parser.parse_args()
    crd = yaml.safe_load(args.crd)
    doc = args.doc.read()
    missing = []
    for version in crd["spec"]["versions"]:
        schema = version["schema"]["openAPIV3Schema"]
        for section in ("spec", "status"):
            missing += [p for p in field_paths(schema["properties"][section], section) if f"`{p}`" not in doc]
    if missing:
        print(f"{args.doc.name}: these CRD fields are not documented: {', '.join(missing)}", file=sys.stderr)
        return 1
    print(f"{args.doc.name}: documents every field of {args.crd.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
