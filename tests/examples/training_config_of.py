#!/usr/bin/python3
"""Writes a TrainingJob's spec.training to a file as YAML: the worker config the operator mounts.

Usage: training_config_of.py TRAININGJOB.yaml OUT.yaml
"""
import sys

import yaml


def main():
    if len(sys.argv) != 3:
        print("usage: training_config_of.py TRAININGJOB.yaml OUT.yaml", file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as stream:
        job = yaml.safe_load(stream)
    training = (job.get("spec") or {}).get("training")
    if not isinstance(training, dict):
        print(f"{sys.argv[1]}: spec.training is missing or not a mapping", file=sys.stderr)
        return 1
    with open(sys.argv[2], "w", encoding="utf-8") as out:
        yaml.safe_dump(training, out, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
