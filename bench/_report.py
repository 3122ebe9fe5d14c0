"""What every benchmark's JSON ends with: the machine, the date, the command; written atomically."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.atomic import atomic_write_text  # noqa: E402


def write_report(path: Path, payload: dict) -> dict:
    out = {**payload, "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": " ".join(sys.argv)}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(out, indent=2))
    return out


def whole_number(hi: int):
    """An argparse type: a whole number from 1 to ``hi``, with a message naming what is wrong."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not 1 <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be 1-{hi}, got {v}")
        return v
    return parse
