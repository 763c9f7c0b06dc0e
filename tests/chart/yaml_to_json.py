#!/usr/bin/python3
"""Prints the YAML documents of the given files (or stdin) as one JSON array, skipping empty ones.

The Kubernetes schema validator runs on Node.js, which has no YAML parser here; Debian's python3-yaml
does the parsing.
"""
import json
import sys

import yaml


def main() -> int:
    streams = [open(path, encoding="utf-8") for path in sys.argv[1:]] or [sys.stdin]
    documents = []
    for stream in streams:
        try:
            documents.extend(doc for doc in yaml.safe_load_all(stream) if doc is not None)
        except yaml.YAMLError as error:
            print(f"{stream.name}: not valid YAML: {error}", file=sys.stderr)
            return 1
    json.dump(documents, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
