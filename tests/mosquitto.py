"""The mosquitto fixtures of the MQTT tests (import them into a test module): ``broker``, a
private broker on a free loopback port, terminated at teardown; ``make_broker`` for tests that
need their own (persistence, restarts). Skipped with the reason when mosquitto is missing."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as paho
import pytest

from bench.lineio_peers._mosquitto import Broker, mosquitto_binary

MISSING = "mosquitto not installed (run scripts/system-deps.sh: apt-get install mosquitto)"


@pytest.fixture
def make_broker(tmp_path):
    if mosquitto_binary() is None:
        pytest.skip(MISSING)
    made: list[Broker] = []

    def make(**kw) -> Broker:
        b = Broker(workdir=tmp_path / f"broker{len(made)}", **kw)
        made.append(b)
        b.start()
        return b

    yield make
    for b in made:
        b.close()


@pytest.fixture
def broker(make_broker) -> Broker:
    return make_broker()


class Listener:
    """A paho subscriber recording (topic, payload, retain) of every message on ``topic``.
    ``session``: a client id for a persistent session (QoS 1 messages wait for it at the broker
    while it is away); None: a clean session."""

    def __init__(self, port: int, topic: str = "#", session: str | None = None) -> None:
        self.port, self.topic = port, topic
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        kw = {"client_id": session, "clean_session": False} if session else {}
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, **kw)
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self._subscribed.set()
        self.client.on_message = self._on_message

    def _on_message(self, client, userdata, m) -> None:
        with self._cond:
            self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))
            self._cond.notify_all()

    def start(self) -> Listener:
        self.client.connect("127.0.0.1", self.port, keepalive=10)
        self.client.loop_start()
        assert self._subscribed.wait(10), "the test's subscriber never got SUBACK"
        return self

    def wait_for(self, predicate, timeout: float = 10.0) -> list[tuple[str, bytes, bool]]:
        """The messages once ``predicate(messages)`` holds (fails after ``timeout``)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self.messages):
                left = deadline - time.monotonic()
                assert left > 0, f"not seen within {timeout} s; got {self.messages[-5:]}"
                self._cond.wait(left)
            return list(self.messages)

    def json_on(self, suffix: str) -> list[dict]:
        with self._cond:
            return [json.loads(p) for t, p, _r in self.messages if t.endswith(suffix)]

    def publish(self, topic: str, payload, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def listen():
    """``listen(port, topic="#", session=None)`` -> a started Listener, stopped at teardown."""
    made: list[Listener] = []

    def make(port: int, topic: str = "#", session: str | None = None) -> Listener:
        made.append(Listener(port, topic, session))
        return made[-1].start()

    yield make
    for lst in made:
        lst.stop()
