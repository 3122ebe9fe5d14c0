"""What the asyncio server transports (OPC UA, Modbus server) share: the body of their own
thread, which runs the server on a fresh event loop and turns a failure into a "down" link
with a plain reason, and the stop that ends that loop from any thread."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
from collections.abc import Callable, Coroutine

from core.lineio.linkstate import LinkState

_log = logging.getLogger(__name__)


def run_server(serve: Callable[[asyncio.AbstractEventLoop], Coroutine], link: LinkState, name: str,
               host: str, port: int) -> None:
    """Run ``serve(loop)`` on a new loop until it returns; an exception sets ``link`` down."""
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(serve(loop))
    except Exception as exc:
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, OSError):
            reason = f"cannot listen on {host}:{port}: {exc.strerror or exc}"
            if port < 1024:
                reason += " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
        _log.error("%s: %s", name, reason)
        link.set("down", reason)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def check_port(host: str, port: int) -> None:
    """Fail with a plain OSError when the port is taken (the libraries log tracebacks)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, _t, _p, _c, addr = infos[0]
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(addr)


def stop_server(loop: asyncio.AbstractEventLoop | None, event: asyncio.Event | None,
                thread: threading.Thread | None, name: str, timeout: float = 10.0) -> None:
    """Set the server's stop ``event`` on its ``loop`` and wait for its ``thread`` to end."""
    if loop is not None and event is not None:
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # the loop already ended (the server failed to start)
            pass
    if thread is not None and thread is not threading.current_thread():
        thread.join(timeout)
        if thread.is_alive():
            _log.warning("%s: server thread did not end within %.0f s", name, timeout)
