"""kind "mqtt" when the broker is not there, goes away, stalls or talks garbage: results queue
on disk (publish_result returns at once), the status says down with the reason, and after the
broker is back every queued result arrives in order; the queue outlives the transport (a
station restart) and its bound drops the oldest."""

from __future__ import annotations

import socket
import threading

import pytest

from core.lineio.contract import LineResult
from core.lineio.mqtt import build
from core.lineio.registry import TransportContext
from tests.lineio_net import free_port, wait_for
from tests.mosquitto import broker, listen, make_broker  # noqa: F401 (fixtures)

STATION = "cell1"
RESULTS = f"lineinspector/{STATION}/result"


def ok(seq: int) -> LineResult:
    return LineResult(seq=seq, verdict="OK", decision="OK", score=0.1)


def wait_until(check, what: str, timeout: float = 10.0):
    return wait_for(check, timeout, f"never {what}")


def transport(tmp_path, port: int, **opts):
    return build("mqtt", {"host": "127.0.0.1", "port": port, **opts},
                 TransportContext(data_dir=tmp_path, station=STATION))


def publish_quickly(t, seqs) -> None:
    """publish_result for each seq in another thread; it must come back (not wait for a broker)."""
    worker = threading.Thread(target=lambda: [t.publish_result(ok(s)) for s in seqs], name="test-publish",
                              daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "publish_result blocked on a missing broker"


def seqs_seen(sub) -> list[int]:
    """Each seq once, in the order first seen (QoS 1 may repeat one after a reconnection)."""
    out: list[int] = []
    for d in sub.json_on("/result"):
        if d["seq"] not in out:
            out.append(d["seq"])
    return out


def test_broker_down_then_back_delivers_everything_in_order(make_broker, listen, tmp_path):  # noqa: F811
    b = make_broker(persistence=True)  # the test's subscriber keeps its session over the restart
    sub = listen(b.port, RESULTS, session="test-subscriber")
    t = transport(tmp_path, b.port)
    t.start(lambda c: None)
    try:
        wait_until(lambda: t.status().state == "connected", "connected")
        publish_quickly(t, range(1, 4))
        sub.wait_for(lambda m: len(m) >= 3)
        wait_until(lambda: t.status().queued == 0, "acked")
        b.stop()  # SIGTERM: every connection drops
        s = wait_until(lambda: (s := t.status()).state == "down" and s, "down")
        assert "lost" in s.detail or "cannot connect" in s.detail
        publish_quickly(t, range(4, 24))
        s = t.status()
        assert s.state == "down" and s.queued == 20, s
        b.start()  # the same port
        sub.wait_for(lambda m: len(seqs_seen(sub)) >= 23, timeout=30)
        assert seqs_seen(sub) == list(range(1, 24))
        wait_until(lambda: (s := t.status()).state == "connected" and s.queued == 0, "drained", timeout=20)
    finally:
        t.stop()


def test_queue_survives_a_restart_of_the_station_and_keeps_its_bound(broker, listen, tmp_path):  # noqa: F811
    nobody = free_port()  # nothing listens there
    first = transport(tmp_path, nobody, queue_max=5)
    first.start(lambda c: None)
    try:
        s = wait_until(lambda: (s := first.status()).state == "down" and s, "down")
        assert "cannot connect" in s.detail and str(nobody) in s.detail and "refused" in s.detail.lower()
        publish_quickly(first, range(1, 9))
        s = first.status()
        assert s.queued == 5 and "3 oldest dropped" in s.detail, s
    finally:
        first.stop()
    assert first.status().state == "down"  # the reason stays after stop
    sub = listen(broker.port, RESULTS)
    second = transport(tmp_path, broker.port, queue_max=5)  # the same station, restarted
    assert second.queue_path == first.queue_path
    second.start(lambda c: None)
    try:
        sub.wait_for(lambda m: len(m) >= 5)
        wait_until(lambda: second.status().queued == 0, "drained")
        second.publish_result(ok(9))
        sub.wait_for(lambda m: len(m) >= 6)
        assert seqs_seen(sub) == [4, 5, 6, 7, 8, 9]
    finally:
        second.stop()


@pytest.fixture
def fake_broker():
    """A TCP server playing a broken broker: ``mode`` "stall" accepts and never answers,
    "garbage" answers every connection with junk and closes it."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(0.2)
    state = {"mode": "stall", "conns": [], "accepted": 0}
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            state["accepted"] += 1
            if state["mode"] == "garbage":
                try:
                    conn.sendall(b"\xf0\xff\xff\xff\x7f" + b"\x00" * 64)
                except OSError:
                    pass
                conn.close()
            else:
                state["conns"].append(conn)

    thread = threading.Thread(target=serve, name="test-fake-broker", daemon=True)
    thread.start()
    yield srv.getsockname()[1], state
    stop.set()
    thread.join(10)
    for c in state["conns"]:
        c.close()
    srv.close()


@pytest.mark.parametrize("mode", ["stall", "garbage"])
def test_a_stalled_or_garbage_broker_never_blocks(fake_broker, tmp_path, mode):
    port, state = fake_broker
    state["mode"] = mode
    t = transport(tmp_path, port, keepalive_s=5)
    t.start(lambda c: None)
    try:
        wait_until(lambda: state["accepted"] >= 1, "connected to the fake broker")
        publish_quickly(t, range(1, 6))
        if mode == "garbage":
            s = wait_until(lambda: (s := t.status()).state == "down" and s, "down")
            assert "lost" in s.detail
            wait_until(lambda: state["accepted"] >= 2, "retried")
        s = t.status()
        assert s.state != "connected" and s.queued == 5, s
    finally:
        stopped = threading.Thread(target=t.stop, name="test-stop", daemon=True)
        stopped.start()
        stopped.join(20)
        assert not stopped.is_alive(), "stop() hung on a broken broker"


def test_a_queue_that_cannot_be_opened_is_down_with_the_reason(tmp_path):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the data folder should be")
    t = build("mqtt", {"host": "127.0.0.1", "port": free_port()}, TransportContext(data_dir=not_a_folder))
    t.start(lambda c: None)  # the station starts anyway; this link shows why it cannot work
    try:
        s = t.status()
        assert s.state == "down" and "cannot open the queue file" in s.detail, s
        with pytest.raises(ConnectionError, match="queue file"):
            t.publish_result(ok(1))
    finally:
        t.stop()


def test_a_failing_queue_read_restarts_the_link_and_loses_nothing(broker, listen, tmp_path, caplog):  # noqa: F811
    import sqlite3

    sub = listen(broker.port, RESULTS)
    t = transport(tmp_path, broker.port)
    t.start(lambda c: None)
    try:
        wait_until(lambda: t.status().state == "connected", "connected")
        q, real_peek, failures = t._queue, t._queue.peek, []

        def peek_failing_once(*a, **kw):  # the disk hiccups once under the link's thread
            if not failures:
                failures.append(1)
                raise sqlite3.OperationalError("disk I/O error")
            return real_peek(*a, **kw)

        q.peek = peek_failing_once
        publish_quickly(t, range(1, 6))
        sub.wait_for(lambda m: len(seqs_seen(sub)) >= 5)
        assert seqs_seen(sub) == [1, 2, 3, 4, 5] and failures
        assert "link failed" in caplog.text and "disk I/O error" in caplog.text
        wait_until(lambda: (s := t.status()).state == "connected" and s.queued == 0, "drained")
    finally:
        t.stop()


def test_a_broker_that_freezes_holds_up_nothing_and_catches_up(broker, listen, tmp_path):  # noqa: F811
    import signal

    sub = listen(broker.port, RESULTS)
    t = transport(tmp_path, broker.port)
    t.start(lambda c: None)
    try:
        wait_until(lambda: t.status().state == "connected", "connected")
        broker.proc.send_signal(signal.SIGSTOP)  # the broker stops answering, its sockets stay open
        try:
            publish_quickly(t, range(1, 11))
            assert t.status().queued == 10  # on disk until the broker acknowledges them
        finally:
            broker.proc.send_signal(signal.SIGCONT)
        sub.wait_for(lambda m: len(seqs_seen(sub)) >= 10)
        assert seqs_seen(sub) == list(range(1, 11))
        wait_until(lambda: t.status().queued == 0, "acknowledged")
    finally:
        t.stop()


def test_hub_with_no_broker_alarms_and_queues(tmp_path):
    """Through LineInterface: inspection goes on, the alarm names the link and the reason, and
    the results wait on disk (the link's queued count)."""
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from tests.lineio_fakes import result

    cfg = LineConfig.from_dict({"transport": [{"kind": "mqtt", "host": "127.0.0.1", "port": free_port()}]})
    line = LineInterface(cfg, context=TransportContext(data_dir=tmp_path, station=STATION))
    line.start(lambda c: None)
    try:
        wait_until(lambda: line.statuses()[0].state == "down", "down")
        for seq in (1, 2, 3):
            line(result(seq, "NG"))  # an InspectionWorker consumer: returns at once
        wait_until(lambda: line.statuses()[0].queued == 3, "3 queued")
        assert "mqtt 127.0.0.1" in line.alarm and "cannot connect" in line.alarm
        assert line.stats().sent == 3 and line.stats().dropped == 0
    finally:
        assert line.stop()
