"""Waiting for a condition, shared by the e2e runner and the kubelet stand-in's self-test."""

import time


class WaitTimeout(AssertionError):
    """What was waited for did not happen in time: a failed expectation of the test."""


def wait_for(what, predicate, timeout, interval=0.5):
    """Polls `predicate` until it returns something truthy, and returns that; raises WaitTimeout
    naming `what` when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise WaitTimeout(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
