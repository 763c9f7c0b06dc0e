"""Kubernetes resource quantities ("512Mi", "1.5", "500m", "2G", "1e3") as numbers."""

import decimal
import math
import re

_MULTIPLIERS = {
    "n": decimal.Decimal("1e-9"), "u": decimal.Decimal("1e-6"), "m": decimal.Decimal("1e-3"), "": 1,
    "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|([a-zA-Z]*))$")


def parse_quantity(text):
    """The quantity TEXT as an exact Decimal; raises ValueError for what Kubernetes would reject."""
    match = _QUANTITY.match(str(text).strip())
    if not match or (match.group(3) or "") not in _MULTIPLIERS:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    number, exponent, suffix = match.groups()
    value = decimal.Decimal(number + (exponent or ""))
    return value * _MULTIPLIERS[suffix or ""]


def memory_bytes(text):
    """Whole bytes, rounded up as Kubernetes rounds a memory quantity."""
    return math.ceil(parse_quantity(text))


def cpu_cores(text):
    return float(parse_quantity(text))
