"""Bench peer for kind "mqtt": the plant side, a paho subscriber on the station's result topic
that notes when each seq arrived, and can trigger by publishing ``cmd/trigger``. MQTT needs a
broker between the two: the peer starts its own mosquitto on a free loopback port (or uses
``host``/``port`` given), so the timing includes the broker's hop."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as paho

from bench.lineio_peers._mosquitto import Broker
from bench.lineio_peers._seen import SeenSeqs


class Peer:
    def __init__(self, host: str = "127.0.0.1", port: int | None = None, station: str = "station",
                 prefix: str = "lineinspector", **_ignored) -> None:
        """``port`` None: a private broker is started (and stopped) by the peer."""
        self._broker = Broker() if port is None else None
        self.host, self.port = host, int(port) if port is not None else self._broker.port
        self.station, self.prefix = station, prefix
        self._seen = SeenSeqs()
        self.connected = threading.Event()
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-peer-{station}")
        self._client.reconnect_delay_set(0.05, 0.5)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda c, u, mid, rcs, p: self.connected.set()
        self._client.on_disconnect = lambda *a: self.connected.clear()
        self._client.on_message = self._on_message

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.station}"

    def transport_options(self) -> dict:
        return {"kind": "mqtt", "host": self.host, "port": self.port, "prefix": self.prefix}

    def start(self) -> None:
        if self._broker is not None:
            self._broker.start()
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()

    def wait_result(self, seq: int, timeout: float) -> float | None:
        return self._seen.wait(seq, timeout)

    def trigger(self, timeout: float = 5.0) -> None:
        if not self.connected.wait(timeout):
            raise TimeoutError("mqtt peer: not connected to the broker")
        self._client.publish(f"{self.base}/cmd/trigger", b"", qos=1).wait_for_publish(timeout)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        if self._broker is not None:
            self._broker.close()

    # --- paho's thread -----------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if not reason.is_failure:
            client.subscribe(f"{self.base}/result", qos=1)

    def _on_message(self, client, userdata, message) -> None:
        try:
            seq = json.loads(message.payload)["seq"]
        except (ValueError, KeyError, TypeError):
            return
        self._seen.saw(seq)
