"""What the roles' application-wide event filter costs (not a test).

    .venv/bin/python bench/event_filter.py [--events 200000] [--repeats 7]
                                           [--out bench/out/event_filter.json] [--quick]

WindowRoles installs its RoleGate as an event filter of the whole QApplication
(app/auth/gate.py ``eventFilter``): every event of every object passes through that Python
method, and the idle lock's activity events (mouse button, key, wheel, touch) also call
``AuthSession.touch()`` (a lock and a clock read). The bench builds the real MainWindow
offscreen (an empty data folder, not inspecting: only the filter is measured) and reports:

* direct: ``gate.eventFilter(obj, event)`` called from Python on a fixed mix of activity and
  other events, per call in ns (median of the repeats), nobody signed in and an engineer
  signed in (then ``touch()`` does its work), with activity and other events apart, and
  beside it the same loop calling an empty Python function (the loop's own cost);
* through Qt: the same burst of synthetic mouse-move and key events sent with
  ``QApplication.sendEvent`` to a label of the window (an engineer signed in), with the filter
  installed and removed (alternating, median of the repeats): the difference per event in µs,
  which includes Qt calling into Python, and how many times the filter runs per sent event
  (an event a widget ignores goes on to its parents, each delivery passing the filters).

``--quick``: a seconds-long run to check that it works (5,000 events, 3 repeats).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench._report import whole_number, write_report  # noqa: E402

# one cycle of the direct mix: 2 activity events in 10 (a click, a key), the rest what an
# idle window sees most (mouse moves, key releases, repaint requests, timers)
DIRECT_MIX = ("move", "move", "move", "move", "press", "key", "release", "update", "timer", "move")
# one cycle of the burst sent through Qt: mouse moves and a key typed (no clicks: a press
# would grab the mouse and move the focus)
BURST_MIX = ("move",) * 8 + ("key", "release")


positive_int = whole_number(10_000_000)


def make_events() -> dict:
    from PySide6.QtCore import QEvent, QPointF, Qt, QTimerEvent
    from PySide6.QtGui import QKeyEvent, QMouseEvent

    at = QPointF(12.0, 8.0)
    none = Qt.KeyboardModifier.NoModifier
    return {
        "move": QMouseEvent(QEvent.Type.MouseMove, at, at, Qt.MouseButton.NoButton,
                            Qt.MouseButton.NoButton, none),
        "press": QMouseEvent(QEvent.Type.MouseButtonPress, at, at, Qt.MouseButton.LeftButton,
                             Qt.MouseButton.LeftButton, none),
        "key": QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Shift, none),
        "release": QKeyEvent(QEvent.Type.KeyRelease, Qt.Key.Key_Shift, none),
        "update": QEvent(QEvent.Type.UpdateRequest),
        "timer": QTimerEvent(1),
    }


def sequence(events: dict, mix: tuple[str, ...], n: int) -> list:
    return [events[mix[i % len(mix)]] for i in range(n)]


def per_call_ns(fn, obj, seq: list, repeats: int) -> float:
    """Median over ``repeats`` of the time per ``fn(obj, event)`` over ``seq``, in ns."""
    runs = []
    for _ in range(repeats):
        gc.disable()
        t0 = time.perf_counter_ns()
        for ev in seq:
            fn(obj, ev)
        runs.append((time.perf_counter_ns() - t0) / len(seq))
        gc.enable()
    return statistics.median(runs)


def _empty_filter(obj, event) -> bool:
    return False


def direct(gate, obj, events: dict, n: int, repeats: int) -> dict:
    seqs = {"mix": sequence(events, DIRECT_MIX, n), "activity": sequence(events, ("press", "key"), n),
            "other": sequence(events, ("move", "release", "update", "timer"), n)}
    return {name: round(per_call_ns(gate.eventFilter, obj, seq, repeats), 1)
            for name, seq in seqs.items()}


def burst_us(app, target, seq: list) -> float:
    """Microseconds per event to send ``seq`` to ``target`` through QApplication."""
    send = app.sendEvent
    gc.disable()
    t0 = time.perf_counter_ns()
    for ev in seq:
        send(target, ev)
    elapsed = time.perf_counter_ns() - t0
    gc.enable()
    app.processEvents()  # whatever the burst posted, outside the timing
    return elapsed / len(seq) / 1000.0


def filter_calls_per_event(app, target, seq: list) -> float:
    from PySide6.QtCore import QObject

    class Counter(QObject):
        calls = 0

        def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
            Counter.calls += 1
            return False

    counter = Counter()
    app.processEvents()
    app.installEventFilter(counter)
    for ev in seq:
        app.sendEvent(target, ev)
    app.removeEventFilter(counter)
    return Counter.calls / len(seq)


def through_qt(app, gate, target, events: dict, n: int, repeats: int) -> dict:
    seq = sequence(events, BURST_MIX, n)
    burst_us(app, target, seq[: min(n, 2000)])  # warm-up
    on, off = [], []
    for _ in range(repeats):  # alternating, so that a drift of the machine hits both alike
        app.removeEventFilter(gate)
        off.append(burst_us(app, target, seq))
        app.installEventFilter(gate)
        on.append(burst_us(app, target, seq))
    calls = filter_calls_per_event(app, target, seq[: min(n, 10_000)])
    diff = statistics.median(on) - statistics.median(off)
    return {"target": f"{type(target).__name__} '{target.objectName()}'", "mix": list(BURST_MIX),
            "with_filter_us": round(statistics.median(on), 3),
            "without_filter_us": round(statistics.median(off), 3),
            "difference_us_per_event": round(diff, 3),
            "filter_calls_per_event": round(calls, 2),
            "difference_us_per_filter_call": round(diff / calls, 3) if calls else None}


def sign_in_engineer(gate) -> None:
    from core.auth import Actor

    gate.users.add("bench", "engineer", "bench-secret-1", by=Actor("bench", "administrator"))
    gate.session.sign_in("bench", "bench-secret-1")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=positive_int, default=200_000, help="events per timed run")
    ap.add_argument("--repeats", type=positive_int, default=7, help="timed runs (the median is kept)")
    ap.add_argument("--out", type=Path, default=Path("bench/out/event_filter.json"))
    ap.add_argument("--quick", action="store_true", help="a seconds-long run (checks that it works)")
    args = ap.parse_args(argv)
    n, repeats = (5_000, 3) if args.quick else (args.events, args.repeats)

    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window

    tmp = Path(tempfile.mkdtemp(prefix="lineinspector-bench-filter-"))
    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(tmp / "data"), "--no-start"]))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    gate = window.roles.gate
    target = window.status.message_label
    events = make_events()
    try:
        results = {"nobody_signed_in": direct(gate, target, events, n, repeats)}
        sign_in_engineer(gate)
        results["engineer_signed_in"] = direct(gate, target, events, n, repeats)
        results["empty_python_filter"] = round(
            per_call_ns(_empty_filter, target, sequence(events, DIRECT_MIX, n), repeats), 1)
        qt = through_qt(app, gate, target, events, n, repeats)
    finally:
        window.roles.confirm = lambda _title, _text: True
        window.close()
    report = write_report(args.out, {
        "bench": "event_filter", "quick": args.quick, "events": n, "repeats": repeats,
        "qt_platform": QApplication.platformName(),
        "direct_call_ns": {**results, "mix": list(DIRECT_MIX)},
        "through_qt": qt})
    d = report["direct_call_ns"]["engineer_signed_in"]
    print(f"event filter: {d['mix']:.0f} ns per direct call (mix, signed in; activity "
          f"{d['activity']:.0f}, other {d['other']:.0f}, empty Python filter "
          f"{results['empty_python_filter']:.0f}); through Qt +{qt['difference_us_per_event']:.2f} us "
          f"per event ({qt['filter_calls_per_event']:.1f} filter calls per event); wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
