"""kind "mqtt": the station as an MQTT client (paho-mqtt 2.x, MQTT 3.1.1) publishing one JSON
message per result and per alarm, a retained status with a Last Will, and taking commands
from ``<prefix>/<station>/cmd/<input>`` (topics and payloads: :mod:`core.lineio.mqtt_messages`).

Every result (and alarm) goes into the on-disk queue (:mod:`core.lineio.disk_queue`) first:
``publish_result`` only writes it there and wakes the link's thread, so a dead broker never
holds up the runner. The link's own thread owns the paho client (every paho call is made
there, so nothing is written to the socket from two threads): it connects, reconnects with
back-off, and drains the queue oldest first with QoS 1, removing a message only on its
PUBACK. Order holds across reconnections: paho re-sends the messages it had in flight first,
then the drain goes on after them. QoS 1 means at least once: a message whose PUBACK was lost
comes again, so consumers dedupe by ``seq``. TLS is not supported yet.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho

from core.lineio import mqtt_messages as msg
from core.lineio.contract import CommandSink, LineOutput, LineResult, LinkStatus, StationState, Transport
from core.lineio.disk_queue import DiskQueue
from core.lineio.linkstate import LinkState
from core.lineio.mqtt_options import check_options
from core.lineio.registry import TransportContext

_log = logging.getLogger(__name__)

WINDOW = 100  # queued messages handed to paho at once (awaiting PUBACK)
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.25, 5.0
CONNECT_TIMEOUT_S = 5.0
STOP_GRACE_S = 2.0  # stop() lets queued messages go out for this long while connected
_NOT_YET = object()  # no status published on this connection yet


def build(kind: str, options: dict[str, Any], context: TransportContext) -> MqttTransport:
    opts = check_options(options)
    return MqttTransport(data_dir=context.data_dir, station=context.station, **opts)


class MqttTransport(Transport):
    def __init__(self, host: str, port: int = 1883, *, data_dir: str | Path = ".", station: str = "station",
                 prefix: str = "lineinspector", client_id: str = "", username: str = "", password: str = "",
                 keepalive_s: int = 30, queue_max: int = 100_000, tls: bool = False) -> None:
        self.host, self.port, self.keepalive_s, self.queue_max = host, int(port), keepalive_s, queue_max
        self.station = station.strip() or "station"
        self.topics = msg.Topics(prefix, self.station)
        self.client_id = client_id or f"lineinspector-{msg.topic_level(self.station)}"
        self.queue_path = Path(data_dir) / "lineio" / f"mqtt-queue-{msg.topic_level(self.client_id)}.sqlite"
        self._auth = (username, password) if username else None
        self.name = f"mqtt {host}:{port}"
        self._link = LinkState()
        self._lock = threading.Lock()  # guards _queue, _state, _alarm, _commands, _inputs
        self._queue: DiskQueue | None = None
        self._state: StationState | None = None  # newest, published on change and on connect
        self._alarm = ""
        self._commands: CommandSink | None = None
        self._inputs: dict[str, object] = {}
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        # link thread only:
        self._client: paho.Client | None = None
        self._connected = False
        self._handed: dict[int, int] = {}  # paho mid -> queue id, awaiting PUBACK
        self._last_handed = 0  # highest queue id handed to paho
        self._status_sent: object = _NOT_YET
        self._refused = ""  # the broker's reason when it refused the connection

    # --- Transport ---------------------------------------------------------------------------
    def start(self, commands: CommandSink) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name}: already started")
        self._commands = commands
        self._link.set("connecting", f"connecting to {self.host}:{self.port}")
        try:
            self._open_queue()
        except ConnectionError:  # down with the reason; the station runs on without this link
            return
        self._thread = threading.Thread(target=self._run, name=f"lineio-mqtt-{self.host}:{self.port}"[:60],
                                        daemon=True)
        self._thread.start()

    def publish_result(self, result: LineResult) -> None:
        self._put(self.topics.result, msg.result_payload(result, self.station))

    def publish_state(self, state: StationState) -> None:
        with self._lock:
            self._state = state
            alarm_changed, self._alarm = state.alarm != self._alarm, state.alarm
        if alarm_changed:
            self._put(self.topics.alarm, msg.alarm_payload(state.alarm, state, self.station))
        else:
            self._wake()

    def force(self, output: LineOutput, value: bool | int | float) -> None:
        """MQTT has no wires to drive: a forced output is a message on ``forced``, queued like a result."""
        self._put(self.topics.forced, msg.forced_payload(output, value, self.station))

    def status(self) -> LinkStatus:
        state, detail, sent = self._link.get()
        q = self._queue
        queued, dropped = (len(q), q.dropped) if q is not None else (0, 0)
        if dropped:
            note = f"{dropped} oldest dropped (disk queue full at {self.queue_max})"
            detail = f"{detail}; {note}" if detail else note
        with self._lock:
            inputs = dict(self._inputs)
        return LinkStatus(self.name, state, detail, sent=sent, queued=queued, inputs=inputs)

    def stop(self) -> None:
        self._closing.set()
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(STOP_GRACE_S + CONNECT_TIMEOUT_S + 5.0)
            if thread.is_alive():
                _log.warning("%s: link thread did not end in time", self.name)
                return
        with self._lock:
            q, self._queue = self._queue, None
        if q is not None:
            q.close()
        for s in (self._wake_r, self._wake_w):
            s.close()
        self._link.stopped()

    # --- any thread ----------------------------------------------------------------------------
    def _open_queue(self) -> DiskQueue:
        with self._lock:
            if self._queue is None:
                if self._closing.is_set():
                    raise ConnectionError(f"{self.name}: stopped")
                try:
                    self._queue = DiskQueue(self.queue_path, self.queue_max)
                except OSError as exc:  # e.g. the data folder is read-only or not a folder
                    reason = f"cannot open the queue file {self.queue_path}: {exc.strerror or exc}"
                    self._link.set("down", reason)
                    raise ConnectionError(f"{self.name}: {reason}") from None
            return self._queue

    def _put(self, topic: str, payload: bytes) -> None:
        self._open_queue().put(topic, payload)
        self._wake()

    def _wake(self) -> None:
        try:
            self._wake_w.send(b"x")
        except (BlockingIOError, OSError):  # already woken, or closed by stop()
            pass

    # --- link thread ---------------------------------------------------------------------------
    def _new_client(self) -> paho.Client:
        c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=True,
                        protocol=paho.MQTTv311)
        if self._auth:
            c.username_pw_set(*self._auth)
        c.will_set(self.topics.status, msg.will_payload(self.station), qos=1, retain=True)
        c.connect_timeout = CONNECT_TIMEOUT_S
        c.on_connect, c.on_disconnect = self._on_connect, self._on_disconnect
        c.on_publish, c.on_message = self._on_publish, self._on_message
        c.connect_async(self.host, self.port, keepalive=self.keepalive_s)
        return c

    def _run(self) -> None:
        client = self._client = self._new_client()
        delay = RECONNECT_MIN_S
        while not self._closing.is_set():
            self._refused = ""
            try:
                client.reconnect()
            except (OSError, ValueError) as exc:
                reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or type(exc).__name__
                self._down(f"cannot connect to {self.host}:{self.port}: {reason} (retrying)")
            else:
                try:
                    if self._serve(client):
                        delay = RECONNECT_MIN_S  # it was up: try again soon
                except Exception as exc:  # a bug or a failing queue file: shown, then a fresh start
                    _log.exception("%s: link failed", self.name)
                    self._down(f"link failed: {type(exc).__name__}: {exc} (retrying)")
                    client = self._fresh_client(client)
            if self._closing.is_set():
                break
            self._sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)
        self._connected = False
        try:
            client.disconnect()
        except Exception:  # the socket may be gone already
            pass

    def _fresh_client(self, old: paho.Client) -> paho.Client:
        """A new paho client after an unexpected error; the queue is sent again from its oldest
        message (the old client's in-flight ones are forgotten: QoS 1 duplicates, never gaps)."""
        self._connected = False
        try:
            old.disconnect()
        except Exception:  # it is being thrown away
            pass
        self._handed, self._last_handed = {}, 0
        client = self._client = self._new_client()
        return client

    def _sleep(self, seconds: float) -> None:
        select.select([self._wake_r], [], [], seconds)
        self._drain_wake()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

    def _serve(self, client: paho.Client) -> bool:
        """Run one connection until it drops or stop() is asked; True when it was connected."""
        was_up, grace_until = False, None
        while True:
            sock = client.socket()
            if sock is None:
                break
            readable, _w, _x = select.select([sock, self._wake_r], [sock] if client.want_write() else [], [], 1.0)
            if self._wake_r in readable:
                self._drain_wake()
            if sock in readable and client.loop_read() != paho.MQTT_ERR_SUCCESS:
                break
            was_up |= self._connected
            if self._closing.is_set():
                grace_until = grace_until or time.monotonic() + STOP_GRACE_S
                if not self._connected or not (self._handed or len(self._queue or ())) \
                        or time.monotonic() > grace_until:
                    self._goodbye(client)
                    break
            if self._connected:
                self._send_status(client)
                self._drain(client)
            if client.want_write() and client.loop_write() != paho.MQTT_ERR_SUCCESS:
                break
            if client.loop_misc() != paho.MQTT_ERR_SUCCESS:
                break
        self._connected = False
        return was_up

    def _goodbye(self, client: paho.Client) -> None:
        """A clean stop: the retained status says offline (the Will is for a vanished station)."""
        if self._connected:
            with self._lock:
                state = self._state
            client.publish(self.topics.status, msg.status_payload(state, self.station, online=False), qos=1,
                           retain=True)
        client.disconnect()
        _log.info("%s: disconnected (station stopping, %d message(s) left in the queue)", self.name,
                  len(self._queue or ()))

    def _send_status(self, client: paho.Client) -> None:
        with self._lock:
            state = self._state
        if self._status_sent is _NOT_YET or state != self._status_sent:
            client.publish(self.topics.status, msg.status_payload(state, self.station, online=True), qos=1,
                           retain=True)
            self._status_sent = state

    def _drain(self, client: paho.Client) -> None:
        q = self._queue
        room = WINDOW - len(self._handed)
        if q is None or room <= 0 or len(q) == 0:
            return
        for m in q.peek(after=self._last_handed, limit=room):
            info = client.publish(m.topic, m.payload, qos=1)
            if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):  # NO_CONN: paho sends it later
                _log.warning("%s: publish refused by paho: %s", self.name, paho.error_string(info.rc))
                break
            self._handed[info.mid] = m.id
            self._last_handed = m.id

    def _down(self, reason: str) -> None:
        state, detail, _ = self._link.get()
        if (state, detail) != ("down", reason):
            _log.warning("%s: %s", self.name, reason)
        self._link.set("down", reason)

    # --- paho callbacks (link thread, inside loop_read) --------------------------------------
    def _on_connect(self, client, userdata, flags, reason, properties) -> None:
        if reason.is_failure:
            self._refused = f"broker refused the connection: {reason}"
            self._down(self._refused)
            return
        self._connected = True
        self._status_sent = _NOT_YET  # online again on every connection (the Will may have said offline)
        client.subscribe(self.topics.cmd_filter, qos=1)
        self._link.set("connected", f"broker {self.host}:{self.port} as {self.client_id}")
        _log.info("%s: connected as %s (%d message(s) queued)", self.name, self.client_id, len(self._queue or ()))

    def _on_disconnect(self, client, userdata, flags, reason, properties) -> None:
        self._connected = False
        if self._closing.is_set():
            return
        why = "closed by the broker or the network" if reason.value == 128 else str(reason)  # 128: "Unspecified error"
        self._down(self._refused or f"connection to {self.host}:{self.port} lost: {why} (reconnecting)")

    def _on_publish(self, client, userdata, mid, reason, properties) -> None:
        queue_id = self._handed.pop(mid, None)
        if queue_id is None:  # the status or a goodbye: not queued on disk
            return
        q = self._queue
        if q is not None:
            q.ack(queue_id)
        self._link.count_sent()

    def _on_message(self, client, userdata, message) -> None:
        cmd = msg.parse_command(self.topics, message.topic, bytes(message.payload), bool(message.retain),
                                self.name, time.monotonic())
        sink = self._commands
        if cmd is None or sink is None:
            return
        with self._lock:
            self._inputs[cmd.kind.value] = cmd.value
        try:
            sink(cmd)
        except Exception:  # the station's handler must not break the link
            _log.exception("%s: command %s failed", self.name, cmd.kind)
