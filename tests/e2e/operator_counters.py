"""What the operator's own counters (its /metrics endpoint) say about the API requests it made."""

import urllib.request


def secret_reads(metrics_port):
    """The operator's counters of requests that read Secrets (any verb but create), as lines of its
    metrics text: it creates each job's SSH Secret and never needs to read one."""
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return [line for line in text.splitlines()
            if line.startswith("kubetrain_api_requests_total") and 'resource="secrets"' in line
            and 'verb="create"' not in line]
