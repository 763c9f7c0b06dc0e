"""podman, run with the suite's own configuration (containers.conf beside this file; /etc untouched)."""

import os
import subprocess

CONTAINERS_CONF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "containers.conf")


def podman_environment():
    return dict(os.environ, CONTAINERS_CONF=CONTAINERS_CONF)


def podman(*arguments, check=True, capture=True, timeout=None):
    """Runs podman; a failure raises with podman's own output in the message."""
    result = subprocess.run(["podman", *arguments], env=podman_environment(), text=True,
                            stdout=subprocess.PIPE if capture else None,
                            stderr=subprocess.STDOUT if capture else None, timeout=timeout)
    if check and result.returncode != 0:
        output = (result.stdout or "")[-4000:]
        raise RuntimeError(f"podman {' '.join(arguments)} failed with exit code {result.returncode}\n{output}")
    return result


def podman_output(*arguments):
    return podman(*arguments).stdout


# Exit code by which ctest counts a test as skipped (SKIP_RETURN_CODE).
SKIPPED = 77


def skip(program, reason):
    """The exit code of a test that cannot run here: SKIPPED, or a failure where
    KUBETRAIN_E2E_REQUIRED is set (CI, where a skipped e2e suite would prove nothing)."""
    if os.environ.get("KUBETRAIN_E2E_REQUIRED"):
        print(f"{program}: cannot run here, and KUBETRAIN_E2E_REQUIRED is set: {reason}", flush=True)
        return 1
    print(f"{program}: skipped: {reason}", flush=True)
    return SKIPPED
