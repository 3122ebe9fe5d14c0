"""Counters per shift (roll-over by a fake clock), per recipe and per lot; shift and lot
recorded with each result by the recorder."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.inspection.counters import ShiftContext, ShiftCounters, StationCounters
from core.inspection.recorder import ResultRecorder
from core.shifts.schedule import ShiftSchedule

BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def at(y, m, d, hh, mm=0) -> float:
    return dt.datetime(y, m, d, hh, mm, tzinfo=BERLIN).timestamp()


@pytest.fixture
def ctx():
    schedule = ShiftSchedule.daily({"early": "06:00", "late": "14:00", "night": "22:00"}, BERLIN)
    return ShiftContext(schedule, clock=Clock(at(2026, 3, 28, 21, 59)))


def test_rollover_at_the_shift_boundary_on_a_part_and_on_a_tick(ctx):
    c = ShiftCounters(ctx, "bottle")
    ended = []
    c.add_rollover_listener(lambda snap, span: ended.append((snap, span)))
    c.add("OK")
    c.add("NG")
    snap = c.snapshot()
    assert (snap.shift, snap.inspected, snap.ng) == ("late", 2, 1)
    assert snap.shift_end == at(2026, 3, 28, 22)
    ctx.clock.t = at(2026, 3, 28, 22)  # the night shift begins
    c.add("OK")  # the part rolls the counters over first, then counts in the new shift
    assert len(ended) == 1
    final, span = ended[0]
    assert (span.name, final.inspected, final.ok, final.ng) == ("late", 2, 1, 1)
    snap = c.snapshot()
    assert (snap.shift, snap.inspected, snap.ok, snap.started_at) == ("night", 1, 1, at(2026, 3, 28, 22))
    assert snap.shift_end - snap.shift_start == 7 * 3600  # DST night: 22:00 -> 06:00 is 7 h
    ctx.clock.t = at(2026, 3, 29, 6, 1)  # no part comes: the periodic tick rolls over
    assert c.tick().inspected == 1
    assert c.snapshot().inspected == 0 and c.snapshot().shift == "early"
    assert [s.name for _, s in ended] == ["late", "night"]
    assert c.tick() is None  # nothing more to roll


def test_without_schedule_counters_run_until_reset():
    clock = Clock(1000.0)
    c = ShiftCounters(ShiftContext(clock=clock))
    c.add("OK")
    clock.t = 10 ** 9
    assert c.tick() is None and c.snapshot().inspected == 1 and c.snapshot().shift is None
    c.reset()
    assert c.snapshot().inspected == 0 and c.snapshot().started_at == 10 ** 9
    with pytest.raises(ValueError, match="unknown verdict"):
        c.add("MAYBE")


def test_per_recipe_counters_are_not_carried_into_another_recipe(ctx):
    station = StationCounters(ctx)
    ended = []
    station.add_rollover_listener(lambda snap, span: ended.append(snap.recipe))
    a, b = station.for_recipe("a"), station.for_recipe("b")
    a.add("NG")
    a.add("NG")
    assert b.snapshot().inspected == 0
    b.add("OK")
    assert station.for_recipe("a") is a and a.snapshot().ng == 2 and b.snapshot().ok == 1
    ctx.clock.t = at(2026, 3, 28, 23)
    assert len(station.tick()) == 2 and sorted(ended) == ["a", "b"]
    assert a.snapshot().inspected == b.snapshot().inspected == 0


def test_counts_per_lot(ctx):
    c = ShiftCounters(ctx, "a")
    c.add("OK")  # before any lot
    ctx.set_lot(" L-1 ")
    c.add("OK")
    c.add("NG")
    ctx.set_lot("L-2")
    c.add("REVIEW")
    snap = c.snapshot()
    assert snap.lot == "L-2" and snap.inspected == 4
    assert [(x.lot, x.inspected, x.ok, x.review, x.ng) for x in snap.lots] == [
        (None, 1, 1, 0, 0), ("L-1", 2, 1, 0, 1), ("L-2", 1, 0, 1, 0)]
    assert c.labels_at() == ("late", "L-2")
    for bad in ("x" * 65, "a\nb", 1.5, True):
        with pytest.raises(ValueError, match="lot must be"):
            ctx.set_lot(bad)
    assert ctx.set_lot("") is None and ctx.lot is None


def test_recorder_stamps_shift_and_lot_when_the_result_comes(ctx):
    from core.inspection import Inspector
    from core.recipe import Thresholds
    from tests.inspection_fakes import FakeInferencer, Sink, make_frame

    store = Sink()
    c = ShiftCounters(ctx, "a")
    ctx.set_lot("L-7")
    rec = ResultRecorder(store, labels=c.labels_at)
    rec(Inspector(FakeInferencer(), Thresholds(0.3, 0.6, 0.5), recipe="a").inspect(make_frame(10)))
    ctx.set_lot("L-8")  # changed after the result came: not applied to it
    assert rec.close(5.0)
    assert [(r.shift, r.lot) for r in store.records] == [("late", "L-7")]
