"""How many decimals a score display needs (Qt-free)."""

from __future__ import annotations

import math

MAX_DECIMALS = 8


def decimals_to_tell_apart(*values: float, minimum: int = 3, maximum: int = MAX_DECIMALS) -> int:
    """The fewest decimals (at least ``minimum``, at most ``maximum``) at which every two of
    the finite ``values`` that differ also read differently, so that a score just under a
    limit never reads the same as the limit."""
    finite = sorted({float(v) for v in values if v is not None and math.isfinite(float(v))})
    for d in range(minimum, maximum + 1):
        texts = [f"{v:.{d}f}" for v in finite]
        if len(set(texts)) == len(texts):
            return d
    return maximum
