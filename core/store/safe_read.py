"""Reading the store's small files without being stalled or flooded by what is there.

A named pipe or a device in place of ``recipe.toml`` would block ``open``/``read`` for ever;
an enormous file would be read into memory whole. :func:`read_regular_bytes` opens without
blocking, checks that the open file is a regular file (``fstat``, so the check and the read
are about the same file) and refuses files above a size limit.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["UnsafeFileError", "read_regular_bytes", "read_regular_text"]


class UnsafeFileError(ValueError):
    """Not a regular file, or larger than the limit (the message names the path)."""


def read_regular_bytes(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The bytes of ``path``; FileNotFoundError/OSError as ``open`` raises them, and
    :class:`UnsafeFileError` for a pipe, device, socket or folder, or above ``max_bytes``."""
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise UnsafeFileError(f"{path} is not a regular file (it is a folder)") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UnsafeFileError(f"{path} is not a regular file ({_kind(st.st_mode)})")
        if st.st_size > max_bytes:
            raise UnsafeFileError(f"{path} is too large ({st.st_size} bytes; at most "
                                  f"{max_bytes} expected)")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total > max_bytes:
                raise UnsafeFileError(f"{path} is too large (over {max_bytes} bytes)")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_regular_text(path: str | os.PathLike, max_bytes: int) -> str:
    """:func:`read_regular_bytes` decoded as UTF-8 (UnicodeDecodeError if it is not)."""
    return read_regular_bytes(path, max_bytes).decode("utf-8")


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISDIR, "a folder")):
        if test(mode):
            return f"it is {name}"
    return "unknown kind"
