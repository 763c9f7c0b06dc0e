#!/usr/bin/python3
"""Writes a TrainingJob's spec.training to a file as YAML: the worker config the operator mounts.
The file may hold other documents beside the TrainingJob (Kueue's queue objects, say).

Usage: training_config_of.py TRAININGJOB.yaml OUT.yaml
"""
import argparse
import sys

import yaml


def main():
    parser = argparse.ArgumentParser(description="Extracts a TrainingJob's worker config.")
    parser.add_argument("job", type=argparse.FileType("r", encoding="utf-8"))
    parser.add_argument("out", type=argparse.FileType("w", encoding="utf-8"))
    args = parser.parse_args()
    jobs = [d for d in yaml.safe_load_all(args.job) if isinstance(d, dict) and d.get("kind") == "TrainingJob"]
    if len(jobs) != 1:
        print(f"{args.job.name}: expected one TrainingJob, found {len(jobs)}", file=sys.stderr)
        return 1
    training = (jobs[0].get("spec") or {}).get("training")
    if not isinstance(training, dict):
        print(f"{args.job.name}: spec.training is missing or not a mapping", file=sys.stderr)
        return 1
    yaml.safe_dump(training, args.out, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
