"""What the OPC UA and S7 peers share: when each seq was first seen, and a free port."""

from __future__ import annotations

import socket
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SeenSeqs:
    """seq -> time.monotonic() it was first seen at the peer, waited on by the bench."""

    def __init__(self) -> None:
        self._seen: dict[int, float] = {}
        self._cond = threading.Condition()

    def saw(self, seq: int) -> None:
        with self._cond:
            self._seen.setdefault(int(seq), time.monotonic())
            self._cond.notify_all()

    def wait(self, seq: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while seq not in self._seen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self._seen[seq]
