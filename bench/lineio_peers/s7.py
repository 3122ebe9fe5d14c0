"""Bench peer for kind "s7": the PLC side, a snap7 client polling the station's data block;
it notes when each SEQ first appeared and can trigger by raising the trigger counter. It
keeps trying to connect until the station's server is up (the station is the server)."""

from __future__ import annotations

import struct

import snap7

from bench.lineio_peers._polling import PollingPeer

SEQ, TRIGGER = 2, 32  # byte offsets in the block (docs/line-io.md, Siemens S7)


class Peer(PollingPeer):
    name = "s7"
    modulo = 0x8000  # an S7 INT

    def __init__(self, host: str = "127.0.0.1", port: int | None = None, db: int = 10,
                 poll_ms: float = 1.0, **_ignored) -> None:
        super().__init__(host, port, poll_ms)
        self.db = int(db)

    def transport_options(self) -> dict:
        return {"kind": "s7", "host": self.host, "port": self.port, "db": self.db, "poll_ms": 10}

    def _open(self):
        client = snap7.client.Client()
        try:
            client.connect(self.host, 0, 1, self.port)
        except Exception:  # not up yet
            return None
        return client

    def _read(self, client) -> tuple[object, int]:
        seq = struct.unpack(">i", client.db_read(self.db, SEQ, 4))[0]
        return seq, seq

    def _write_trigger(self, client, count: int) -> None:
        client.db_write(self.db, TRIGGER, bytearray(struct.pack(">h", count)))

    def _close(self, client) -> None:
        client.disconnect()
