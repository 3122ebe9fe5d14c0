"""Bench peer for kind "opcua": the SCADA side, an asyncua client (its own thread and event
loop) with a data-change subscription on LastResult.Seq; it notes when each seq arrived and
can trigger through the station's Trigger method. It keeps trying to connect until the
station's server is up (the station is the server). The subscription's first notification is
the current Seq (0 on a fresh station), so seq 0 (a test result) cannot be timed."""

from __future__ import annotations

import asyncio
import threading

from asyncua import Client, ua

from bench.lineio_peers._seen import SeenSeqs, free_port

NAMESPACE = "urn:lineinspector:station"


class Peer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, station: str = "station",
                 publish_ms: int = 5, **_ignored) -> None:
        self.host, self.port, self.station = host, int(port or free_port()), station
        self.publish_ms = publish_ms
        self._seen = SeenSeqs()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._client: Client | None = None
        self._ids: tuple[ua.NodeId, ua.NodeId] | None = None  # (station object, Trigger method)
        self.connected = threading.Event()

    def transport_options(self) -> dict:
        return {"kind": "opcua", "host": self.host, "port": self.port}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="bench-opcua-peer", daemon=True)
        self._thread.start()

    def wait_result(self, seq: int, timeout: float) -> float | None:
        return self._seen.wait(seq, timeout)

    def trigger(self, timeout: float = 5.0) -> None:
        """Call the station's Trigger method (waits for the connection first)."""
        if not self.connected.wait(timeout) or self._loop is None:
            raise TimeoutError("opcua peer: not connected to the station")
        asyncio.run_coroutine_threadsafe(self._trigger(), self._loop).result(timeout)

    def stop(self) -> None:
        loop, ev = self._loop, self._stop
        if loop is not None and ev is not None:
            try:
                loop.call_soon_threadsafe(ev.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(10.0)

    # --- peer thread -------------------------------------------------------------------------
    def datachange_notification(self, node, value, data) -> None:
        """asyncua's subscription handler: one new LastResult.Seq."""
        self._seen.saw(value)

    async def _trigger(self) -> None:
        obj, method = self._ids
        await self._client.get_node(obj).call_method(method)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        while not self._stop.is_set():
            client = Client(f"opc.tcp://{self.host}:{self.port}/lineinspector/", timeout=5)
            try:
                await client.connect()
            except (OSError, asyncio.TimeoutError, ua.UaError):
                try:
                    await asyncio.wait_for(self._stop.wait(), 0.2)
                except asyncio.TimeoutError:
                    pass
                continue
            try:
                idx = await client.get_namespace_index(NAMESPACE)
                self._client = client
                self._ids = (ua.NodeId(self.station, idx), ua.NodeId(f"{self.station}.Trigger", idx))
                sub = await client.create_subscription(self.publish_ms, self)
                await sub.subscribe_data_change(client.get_node(ua.NodeId(f"{self.station}.LastResult.Seq", idx)))
                self.connected.set()
                await self._stop.wait()
            finally:
                self.connected.clear()
                try:
                    await client.disconnect()
                except Exception:  # the station may be gone already
                    pass
