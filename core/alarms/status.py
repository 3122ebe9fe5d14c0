"""A StatusSample from what the station has: the live session's status, the line links and
the free space of the results and archive disks. Call it off the inspection thread (it asks
the file system), e.g. on the station's poll or the GUI's status timer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from core.alarms.rules import StatusSample


def free_mb(path: str | os.PathLike) -> float | None:
    """Free MB on the disk holding ``path`` (its nearest existing folder); None if unknown."""
    p = Path(path)
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return shutil.disk_usage(p).free / 2**20
    except OSError:
        return None


def line_down(line) -> str:
    """The line links not connected, in words; "" when all are (or there is no line)."""
    if line is None:
        return ""
    bad = [s for s in line.statuses() if s.state != "connected"]
    return "; ".join(f"{s.name} {s.state}" + (f" ({s.detail})" if s.detail else "") for s in bad)


def sample_status(session=None, line=None, disks: dict[str, str | os.PathLike] | None = None,
                  *, free=free_mb) -> StatusSample:
    """``session``: a LiveSession (None: stopped); ``disks``: e.g. {"results": db folder,
    "archive": archive folder}."""
    fault, live, received, skipped = "", False, None, None
    if session is not None:
        st = session.status()
        fault = st.fault if st.state != "stopped" else ""
        live = str(getattr(session, "mode", "")) == "live"  # DeliveryMode is a StrEnum
        received, skipped = st.received, st.skipped
    space = {}
    for name, path in (disks or {}).items():
        mb = free(path)
        if mb is not None:
            space[name] = mb
    return StatusSample(camera_fault=fault, live=live, received=received, skipped=skipped,
                        free_mb=space, line_down=line_down(line))
