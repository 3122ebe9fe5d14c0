"""Loopback helpers for the transports' tests: a free port, garbage sent to a server, and a
polled wait with a deadline."""

from __future__ import annotations

import socket
import time

GARBAGE = (b"\x00" * 64, b"HELF\xff\xff\xff\x7f" + b"x" * 200, b"\x03\x00\xff\xff" + b"x" * 300,
           b"GET / HTTP/1.1\r\n\r\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send_garbage(port: int) -> None:
    """Each of GARBAGE on its own connection, read until the server closes it (or 5 s)."""
    for junk in GARBAGE:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            try:  # the server may drop the connection at any point: that is its right
                s.sendall(junk)
                s.shutdown(socket.SHUT_WR)
                while s.recv(4096):
                    pass
            except OSError:
                pass


def wait_for(what, timeout: float = 10.0, message: str = ""):
    """Poll ``what()`` until it is true and return its value; fail after ``timeout`` (a
    guard, not a timing)."""
    deadline = time.monotonic() + timeout
    while not (value := what()):
        assert time.monotonic() < deadline, message or "condition never came true"
        time.sleep(0.01)
    return value
