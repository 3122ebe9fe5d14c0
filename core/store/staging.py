"""Staging folders in which a new model version is assembled, and removing stale ones.

Each staging folder ``.incoming-XXXX`` has an owner lock file ``.incoming-XXXX.lock`` beside
it, locked (see :mod:`core.filelock`) before the folder is made and released only after the
folder is gone or renamed into place. The operating system drops the lock when the owner
dies, even by ``kill -9``; so a staging folder whose lock can be taken, or that has no lock
file (made by an older release), belongs to nobody and :func:`clean_stale` removes it.
Temporary files of interrupted atomic writes (``.NAME.XXXX.tmp``) are removed once they are
an hour old (a live writer's exist for milliseconds).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from core.filelock import FileLock, LockBusyError

__all__ = ["PREFIX", "clean_stale", "staging_dir"]

PREFIX = ".incoming-"
LOCK_SUFFIX = ".lock"
ORPHAN_AGE_S = 3600.0
_log = logging.getLogger(__name__)


@contextlib.contextmanager
def staging_dir(parent: Path) -> Iterator[Path]:
    """A fresh, owned staging folder in ``parent``; removed on exit unless renamed away."""
    parent.mkdir(parents=True, exist_ok=True)
    fd, lock_name = tempfile.mkstemp(prefix=PREFIX, suffix=LOCK_SUFFIX, dir=parent)
    os.close(fd)
    lock_path = Path(lock_name)
    folder = lock_path.with_name(lock_path.name[:-len(LOCK_SUFFIX)])
    try:
        with FileLock(lock_path, timeout=0):
            folder.mkdir()
            try:
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()


def clean_stale(parent: Path, *, now: float | None = None) -> list[Path]:
    """Remove staging folders and lock files of dead owners in ``parent``; returns them.
    Never raises for what it cannot remove (logged)."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return removed
    names = {p.name for p in entries}
    for p in entries:
        try:
            if p.name.startswith(PREFIX) and not p.name.endswith(LOCK_SUFFIX) and p.is_dir():
                if _owner_gone(p.with_name(p.name + LOCK_SUFFIX), names):
                    shutil.rmtree(p)
                    removed.append(p)
            elif p.name.startswith(PREFIX) and p.name.endswith(LOCK_SUFFIX):
                if p.name[:-len(LOCK_SUFFIX)] not in names and _old(p, now) and _free(p):
                    p.unlink()
                    removed.append(p)
            elif p.name.startswith(".") and p.name.endswith(".tmp") and p.is_file() \
                    and _old(p, now):
                p.unlink()
                removed.append(p)
        except OSError as exc:
            _log.warning("cannot remove stale %s: %s", p, exc)
    if removed:
        _log.info("removed %d stale staging item(s) in %s", len(removed), parent)
    return removed


def _owner_gone(lock_path: Path, names: set[str]) -> bool:
    if lock_path.name not in names:
        return True  # no owner lock: left by an older release (or its owner already gone)
    if not _free(lock_path):
        return False
    with contextlib.suppress(OSError):
        lock_path.unlink()
    return True


def _free(lock_path: Path) -> bool:
    try:
        with FileLock(lock_path, timeout=0):
            return True
    except LockBusyError:
        return False


def _old(path: Path, now: float) -> bool:
    return now - path.stat().st_mtime > ORPHAN_AGE_S
