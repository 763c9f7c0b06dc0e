#!/usr/bin/python3
"""kubetrain end to end on one machine: the images built from docker/ with podman, the operator in
its container, a kubelet stand-in that runs pods as podman containers, and TrainingJobs that train.

  run_e2e.py --fake-apiserver build/bin/kubetrain-fake-apiserver   # our fake API server
  run_e2e.py --kubeconfig ~/.kube/config                           # any real API server

After each scenario the operator's own request counters must show that it read no Secret (it
only creates them). Runs as root (podman). Prints each scenario's outcome and the figures
measured; a failing scenario prints the operator's log and its pods' container logs. Everything
started is removed at the end, also on failure and on Ctrl-C.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e_cluster import Cluster  # noqa: E402
from e2e_images import DEFAULT_CACHE_DIR, build_images, ensure_base_image  # noqa: E402
from e2e_podman import podman, skip  # noqa: E402
from e2e_scenarios import SCENARIOS  # noqa: E402


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--fake-apiserver", help="the kubetrain-fake-apiserver executable to start")
    target.add_argument("--kubeconfig", help="an existing API server's kubeconfig (credentials embedded)")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS),
                        help="run only these (repeatable; default: all, in order)")
    parser.add_argument("--garbage-collector", choices=("yes", "no"),
                        help="whether the API server's garbage collector deletes owned objects "
                             "(default: yes on the fake; no with --kubeconfig, as a bare "
                             "kube-apiserver has none without kube-controller-manager)")
    parser.add_argument("--cache-dir", default=DEFAULT_CACHE_DIR,
                        help="where the Debian 12 base tarball is kept")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, checkpoints)")
    return parser.parse_args()


def log(message):
    print(f"e2e: {message}", flush=True)


def podman_problem():
    """Why podman cannot run containers here, or None."""
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/install-deps.sh --tests installs it)"
    result = podman("info", "--format", "{{.Host.OCIRuntime.Name}}", check=False)
    if result.returncode != 0:
        return (f"podman cannot run here (it needs root, runc, netavark and aardvark-dns):\n"
                f"{result.stdout}")
    return None


def stop_on_sigterm():
    def stop(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, stop)


def main():
    arguments = parse_arguments()
    if os.geteuid() != 0:
        return skip("e2e", "runs containers with podman as root; run as root")
    problem = podman_problem()
    if problem:
        return skip("e2e", problem)
    stop_on_sigterm()
    work_dir = tempfile.mkdtemp(prefix="kubetrain-e2e-", dir="/var/tmp")
    os.chmod(work_dir, 0o755)  # the pods' users read the hostPath volumes below it
    log(f"work directory {work_dir}")
    figures, outcomes, cluster = {}, {}, None
    try:
        ensure_base_image(arguments.cache_dir)
        for image, seconds in build_images(log, work_dir).items():
            figures[f"build {image} (s)"] = seconds
        cluster = Cluster(work_dir, fake_apiserver=arguments.fake_apiserver,
                          kubeconfig=arguments.kubeconfig, log=log)
        cluster.garbage_collector = (arguments.garbage_collector or ("yes" if cluster.on_fake else "no")) == "yes"
        cluster.setup()
        for name in arguments.scenario or list(SCENARIOS):
            log(f"== scenario {name}")
            started = time.monotonic()
            try:
                for figure, value in SCENARIOS[name](cluster, name).items():
                    figures[f"{name}: {figure}"] = value
                reads = cluster.operator_secret_reads()
                assert not reads, f"the operator read Secrets: {reads}"
                outcomes[name] = f"passed in {time.monotonic() - started:.0f} s"
            except Exception:
                outcomes[name] = f"FAILED after {time.monotonic() - started:.0f} s"
                traceback.print_exc()
                cluster.print_logs(name)
            log(f"scenario {name} {outcomes[name]}")
    except KeyboardInterrupt as interruption:
        log(f"interrupted ({interruption}); cleaning up")
        outcomes["(interrupted)"] = "FAILED"
    finally:
        if cluster is not None:
            cluster.close()
        if arguments.keep:
            log(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    log("scenarios:")
    for name, outcome in outcomes.items():
        print(f"  {name:20} {outcome}")
    log("figures:")
    for figure, value in figures.items():
        print(f"  {figure:60} {value:.2f}" if isinstance(value, float) else f"  {figure:60} {value}")
    return 0 if outcomes and all(not outcome.startswith("FAILED") for outcome in outcomes.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
