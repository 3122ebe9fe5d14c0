"""Atomic file writes: a reader sees either the old file or the complete new one, never a mix.

The data goes to a temporary file in the same folder, is flushed and fsynced, then renamed
over the target with ``os.replace``; finally the folder itself is fsynced so the rename
survives a power cut (skipped where the platform cannot open folders, i.e. Windows).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_open", "fsync_dir"]


def fsync_dir(folder: str | os.PathLike) -> None:
    """fsync a folder so that a rename inside it is durable (no-op where unsupported)."""
    if os.name == "nt":
        return
    fd = os.open(os.fspath(folder), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", *, encoding: str = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """Open a temporary file for writing that replaces ``path`` when the block exits cleanly.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes). If the block raises, the target is left
    untouched and the temporary file is removed. Parent folders are created as needed.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if os.name != "nt":  # mkstemp makes 0600 files; keep the old mode or use rw-r--r--
            try:
                os.fchmod(fd, path.stat().st_mode & 0o7777)
            except FileNotFoundError:
                os.fchmod(fd, 0o644)
        if mode == "wb":
            fh = os.fdopen(fd, "wb")
        else:
            fh = os.fdopen(fd, "w", encoding=encoding, newline=newline)
        with fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None:  # name the file (disk full...)
            raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(path)) from exc
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically replace ``path`` with ``data``; returns the path."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str, *, encoding: str = "utf-8") -> Path:
    """Atomically replace ``path`` with ``text`` (no newline translation); returns the path."""
    with atomic_open(path, "w", encoding=encoding, newline="") as fh:
        fh.write(text)
    return Path(path)
