"""What the polling bench peers share (S7, Modbus server): the PLC side as a client of the
station's server that keeps trying to connect until the server is up, reads as often as
poll_ms allows, notes when each result first appears and triggers by raising a counter.
A subclass says how to open, read, trigger and close with its protocol's client."""

from __future__ import annotations

import threading

from bench.lineio_peers._seen import SeenSeqs, free_port


class PollingPeer:
    name = "peer"
    modulo = 65536  # the trigger counter wraps here

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, poll_ms: float = 1.0) -> None:
        self.host, self.port = host, int(port or free_port())
        self.poll_s = float(poll_ms) / 1000.0
        self._seen = SeenSeqs()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None
        self._client_lock = threading.Lock()  # the clients are one request at a time
        self._client = None
        self._triggers = 0
        self.connected = threading.Event()

    # --- the protocol's part -----------------------------------------------------------------
    def _open(self):
        """A connected client, or None when the station is not up yet."""
        raise NotImplementedError

    def _read(self, client) -> tuple[object, int]:
        """(what changes with each new result, that result's seq); raises when the link is gone."""
        raise NotImplementedError

    def _write_trigger(self, client, count: int) -> None:
        raise NotImplementedError

    def _close(self, client) -> None:
        raise NotImplementedError

    # --- the bench's Peer protocol -----------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"bench-{self.name}-peer", daemon=True)
        self._thread.start()

    def wait_result(self, seq: int, timeout: float) -> float | None:
        return self._seen.wait(seq, timeout)

    def trigger(self, timeout: float = 5.0) -> None:
        """Raise the trigger counter by one (waits for the connection first)."""
        if not self.connected.wait(timeout):
            raise TimeoutError(f"{self.name} peer: not connected to the station")
        self._triggers = (self._triggers + 1) % self.modulo
        with self._client_lock:
            self._write_trigger(self._client, self._triggers)

    def stop(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _run(self) -> None:
        last = None
        while not self._quit.is_set():
            if self._client is None:
                client = self._open()
                if client is None:
                    self._quit.wait(0.2)
                    continue
                self._client = client
                self.connected.set()
            try:
                with self._client_lock:
                    key, seq = self._read(self._client)
            except Exception:  # the station went away: connect again
                self.connected.clear()
                self._drop()
                continue
            if key != last:
                last = key
                self._seen.saw(seq)
            self._quit.wait(self.poll_s)
        self._drop()
        self.connected.clear()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            try:
                self._close(client)
            except Exception:  # already broken
                pass
