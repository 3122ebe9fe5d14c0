"""The headless station with shifts and alarms: results recorded with shift and lot, the
line's counters start again at the shift's end (fake clock), ACK_ALARM acknowledges the
engine's alarms, the recipe's [alarms] rules are in force."""

import datetime as dt
from zoneinfo import ZoneInfo

from core.alarms import StatusSample
from core.alarms.station_alarms import StationAlarms
from core.inspection.counters import ShiftContext, StationCounters
from core.lineio.config import LineConfig, Mapping
from core.lineio.contract import LineInput
from core.lineio.hub import LineInterface
from core.recipe.alarm_rules import AlarmRules
from core.shifts.schedule import ShiftSchedule
from core.station.station import Station, triggered_opener
from tests.inspection_fakes import Sink
from tests.lineio_fakes import RecordingTransport, wait_for
from tests.test_station import SIM, Recipes, _fake_session

BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, t):
        self.t = t

    def __call__(self):
        return self.t


def test_station_records_shift_and_lot_rolls_line_counters_and_acks_alarms(tmp_path):
    from core.camera.registry import open_source

    clock = Clock(dt.datetime(2026, 6, 10, 13, 50, tzinfo=BERLIN).timestamp())
    schedule = ShiftSchedule.daily({"early": "06:00", "late": "14:00"}, BERLIN)
    counters = StationCounters(ShiftContext(schedule, clock=clock, lot="L-1"))
    link = RecordingTransport()
    hub = LineInterface(LineConfig(Mapping(deadline_ms=600000)), [link])
    alarms = StationAlarms(line=hub, clock=clock)
    recipes = Recipes()
    recipes.recipes["alpha"].alarms = AlarmRules(consecutive_ng=1000, line_down=False)
    sink = Sink()
    st = Station(tmp_path, "alpha", SIM, mode="triggered", line=hub, recipes=recipes, results=sink,
                 session_factory=_fake_session, source_opener=triggered_opener(open_source),
                 counters=counters, alarms=alarms)
    st.open()
    try:
        assert alarms.engine.recipe == "alpha"
        assert [r.name for r in alarms.engine._rules] == ["consecutive_ng", "camera_fault"]
        for _ in range(2):
            link.command(LineInput.TRIGGER)
        assert wait_for(lambda: len(link.results) == 2)
        assert wait_for(lambda: link.states[-1].ok + link.states[-1].review + link.states[-1].ng == 2)
        assert counters.for_recipe("alpha").snapshot().inspected == 2
        clock.t += 15 * 60  # 14:05: the late shift
        st.poll()
        assert wait_for(lambda: link.states[-1].ok + link.states[-1].review + link.states[-1].ng == 0)
        snap = counters.for_recipe("alpha").snapshot()
        assert (snap.shift, snap.inspected) == ("late", 0)
        counters.context.set_lot("L-2")
        link.command(LineInput.TRIGGER)
        assert wait_for(lambda: len(link.results) == 3)
        alarms.engine.on_status(StatusSample(camera_fault="stalled"))
        assert wait_for(lambda: "camera: stalled" in link.states[-1].alarm)
        st.poll()  # the real tick: the camera is fine, the alarm clears but stays open
        assert len(alarms.engine.open_alarms()) == 1
        link.command(LineInput.ACK_ALARM)
        st.poll()
        assert alarms.engine.open_alarms() == []
        assert wait_for(lambda: link.states[-1].alarm == "")
    finally:
        st.close()
    assert [(r.shift, r.lot) for r in sink.records] == [("early", "L-1")] * 2 + [("late", "L-2")]
