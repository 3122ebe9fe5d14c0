"""A server transport's link state, shared between its own threads and status() callers."""

from __future__ import annotations

import threading


class LinkState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.state, self.detail, self.sent = "stopped", "", 0

    def set(self, state: str, detail: str) -> None:
        with self._lock:
            self.state, self.detail = state, detail

    def stopped(self) -> None:
        """After stop(): "stopped", unless it is down (the reason stays for the status bar)."""
        with self._lock:
            if self.state != "down":
                self.state, self.detail = "stopped", ""

    def count_sent(self) -> None:
        with self._lock:
            self.sent += 1

    def get(self) -> tuple[str, str, int]:
        with self._lock:
            return self.state, self.detail, self.sent
