"""Inter-process file locks: ``fcntl.flock`` on POSIX, ``msvcrt.locking`` on Windows.

A :class:`FileLock` is exclusive between processes and re-entrant within one process (the
same thread may nest it; other threads of the process wait like other processes do). The
operating system drops the lock when its holder dies, even by ``kill -9``, so a crashed
writer never leaves a recipe locked. The lock file itself is left in place (removing it
while others wait on it would let two holders in).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

if os.name == "nt":  # pragma: no cover - exercised on Windows only
    import msvcrt
else:
    import fcntl

__all__ = ["FileLock", "LockBusyError"]

_POLL_S = 0.05


class LockBusyError(TimeoutError):
    """The lock was held by someone else for longer than the caller would wait."""


class _Entry:
    """Per-process state of one lock file: a thread lock, the OS handle, the nesting depth."""

    def __init__(self) -> None:
        self.thread_lock = threading.RLock()
        self.fd: int | None = None
        self.depth = 0


_entries: dict[str, _Entry] = {}
_entries_lock = threading.Lock()


def _forget_after_fork() -> None:
    # A forked child shares the parent's open lock files; it must neither believe it holds
    # them nor unlock them for the parent, so it starts with no state (the fds just leak).
    global _entries, _entries_lock
    _entries, _entries_lock = {}, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _os_try_lock(fd: int) -> bool:
    if os.name == "nt":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _os_unlock(fd: int) -> None:
    if os.name == "nt":  # pragma: no cover
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)


class FileLock:
    """``with FileLock(path, timeout=30):`` holds ``path`` (created if missing) exclusively.

    ``timeout`` None waits for ever; 0 tries once. :class:`LockBusyError` when it runs out.
    """

    def __init__(self, path: str | os.PathLike, timeout: float | None = None) -> None:
        self.path = Path(path)
        self.timeout = timeout
        key = os.path.normcase(os.path.abspath(self.path))
        with _entries_lock:
            self._entry = _entries.setdefault(key, _Entry())

    def acquire(self) -> None:
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        entry = self._entry
        if not entry.thread_lock.acquire(timeout=-1 if self.timeout is None else self.timeout):
            raise LockBusyError(f"{self.path} is held by another thread")
        try:
            if entry.depth == 0:
                entry.fd = self._os_acquire(deadline)
            entry.depth += 1
        except BaseException:
            entry.thread_lock.release()
            raise

    def _os_acquire(self, deadline: float | None) -> int:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o644)
        try:
            if os.name != "nt" and deadline is None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # blocking wait, no polling
                return fd
            while not _os_try_lock(fd):
                if deadline is not None and time.monotonic() >= deadline:
                    raise LockBusyError(f"{self.path} is held by another process")
                time.sleep(_POLL_S)
            return fd
        except BaseException:
            os.close(fd)
            raise

    def release(self) -> None:
        entry = self._entry
        entry.depth -= 1
        if entry.depth == 0 and entry.fd is not None:
            fd, entry.fd = entry.fd, None
            try:
                _os_unlock(fd)
            finally:
                os.close(fd)
        entry.thread_lock.release()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
