"""Bench peer for kind "s7": the PLC side, a snap7 client polling the station's data block;
it notes when each SEQ first appeared and can trigger by raising the trigger counter. It
keeps trying to connect until the station's server is up (the station is the server)."""

from __future__ import annotations

import struct
import threading

import snap7

from bench.lineio_peers._seen import SeenSeqs, free_port

SEQ, TRIGGER = 2, 32  # byte offsets in the block (docs/line-io.md, Siemens S7)


class Peer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, db: int = 10,
                 poll_ms: float = 1.0, **_ignored) -> None:
        self.host, self.port, self.db = host, int(port or free_port()), int(db)
        self.poll_s = float(poll_ms) / 1000.0
        self._seen = SeenSeqs()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None
        self._client_lock = threading.Lock()  # snap7's client is one request at a time
        self._client: snap7.client.Client | None = None
        self._triggers = 0
        self.connected = threading.Event()

    def transport_options(self) -> dict:
        return {"kind": "s7", "host": self.host, "port": self.port, "db": self.db, "poll_ms": 10}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-s7-peer", daemon=True)
        self._thread.start()

    def wait_result(self, seq: int, timeout: float) -> float | None:
        return self._seen.wait(seq, timeout)

    def trigger(self, timeout: float = 5.0) -> None:
        """Raise the trigger counter by one (the station polls it every poll_ms)."""
        if not self.connected.wait(timeout):
            raise TimeoutError("s7 peer: not connected to the station")
        self._triggers = (self._triggers + 1) & 0x7FFF
        with self._client_lock:
            self._client.db_write(self.db, TRIGGER, bytearray(struct.pack(">h", self._triggers)))

    def stop(self) -> None:
        self._quit.set()
        if self._thread is not None:
            self._thread.join(10.0)

    def _run(self) -> None:
        last = None
        while not self._quit.is_set():
            if self._client is None:
                client = snap7.client.Client()
                try:
                    client.connect(self.host, 0, 1, self.port)
                except Exception:  # not up yet
                    self._quit.wait(0.2)
                    continue
                self._client = client
                self.connected.set()
            try:
                with self._client_lock:
                    seq = struct.unpack(">i", self._client.db_read(self.db, SEQ, 4))[0]
            except Exception:  # the station went away: connect again
                self.connected.clear()
                self._client = None
                continue
            if seq != last:
                last = seq
                self._seen.saw(seq)
            self._quit.wait(self.poll_s)
        if self._client is not None:
            try:
                self._client.disconnect()
            except Exception:
                pass
        self.connected.clear()
