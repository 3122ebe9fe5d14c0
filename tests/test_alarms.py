"""Alarm rules (each fires and clears), acknowledgement (an alarm stays until acknowledged),
listeners, the alarms table, the line interface's alarm output and the recipe's [alarms]."""

import pytest

from core.alarms import AlarmEngine, AlarmError, StatusSample
from core.alarms.line import LineAlarm
from core.alarms.log import AlarmLog, read_alarms
from core.alarms.station_alarms import StationAlarms
from core.alarms.status import sample_status
from core.lineio.config import LineConfig
from core.lineio.hub import LineInterface
from core.recipe import Recipe
from core.recipe.alarm_rules import AlarmRules, check_alarm_rules
from core.recipe.errors import RecipeError
from core.store.results_query import ResultsQuery
from tests.lineio_fakes import RecordingTransport


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        self.t += 1.0  # every reading a second later: raised / cleared times differ
        return self.t


def engine(**rules):
    e = AlarmEngine(AlarmRules(**{"camera_fault": False, "line_down": False, **rules}),
                    recipe="a", clock=Clock())
    events = []
    e.add_listener(lambda ev, a: events.append((ev, a.rule)))
    return e, events


def test_consecutive_ng_fires_and_clears():
    e, events = engine(consecutive_ng=3)
    for v in ("NG", "NG", "OK", "NG", "NG"):
        e.on_result(v)
    assert events == []
    e.on_result("NG")
    assert events == [("raised", "consecutive_ng")]
    assert e.open_alarms()[0].text == "3 NG parts in a row (alarm at 3)"
    e.on_result("NG")  # still holding: no second alarm
    e.on_result("REVIEW")
    assert events == [("raised", "consecutive_ng"), ("cleared", "consecutive_ng")]


def test_low_yield_over_the_last_m_parts():
    e, events = engine(yield_window=4, yield_below_pct=75.0)
    for v in ("OK", "NG", "OK"):  # fewer than 4 parts: not judged yet
        e.on_result(v)
    assert events == []
    e.on_result("NG")  # 2/4 = 50 %
    assert events == [("raised", "low_yield")] and "yield 50.0% over the last 4" in e.text()
    e.on_result("OK")  # NG OK NG OK: 50 %
    e.on_result("OK")  # OK NG OK OK: 75 %: not below
    assert events[-1] == ("cleared", "low_yield")


def test_camera_fault_and_line_down_and_disk_space_from_status_ticks():
    e, events = engine(camera_fault=True, line_down=True, min_free_mb=500)
    e.on_status(StatusSample(camera_fault="stalled", free_mb={"results": 400, "archive": 9000},
                             line_down="modbus down"))
    assert sorted(events) == [("raised", "camera_fault"), ("raised", "disk_space"), ("raised", "line_down")]
    texts = e.text()
    assert "camera: stalled" in texts and "results disk 400 MB free (below 500 MB)" in texts
    e.on_status(StatusSample(free_mb={"results": 600}))
    assert sorted(x for x in events if x[0] == "cleared") == [
        ("cleared", "camera_fault"), ("cleared", "disk_space"), ("cleared", "line_down")]


def test_skipping_over_a_window_of_frames_in_live_mode_only():
    e, events = engine(skip_above_pct=20.0, skip_window=100)
    e.on_status(StatusSample(live=True, received=0, skipped=0))
    e.on_status(StatusSample(live=True, received=50, skipped=40))  # under 100 frames: not judged
    assert events == []
    e.on_status(StatusSample(live=True, received=100, skipped=45))  # 45 %
    assert events == [("raised", "skipping")] and "45.0% of frames" in e.text()
    e.on_status(StatusSample(live=True, received=200, skipped=50))  # last 100 frames: 5 skipped
    assert events[-1] == ("cleared", "skipping")
    e.on_status(StatusSample(live=False, received=400, skipped=250))  # triggered: not a fault
    assert events[-1] == ("cleared", "skipping") and len(events) == 2


def test_an_alarm_stays_until_acknowledged_even_after_its_cause_cleared():
    e, events = engine(consecutive_ng=1)
    e.on_result("NG")
    (alarm,) = e.open_alarms()
    e.on_result("OK")  # cleared, not acknowledged: still on the banner
    (still,) = e.open_alarms()
    assert still.id == alarm.id and not still.active and still.cleared_at > still.raised_at
    acked = e.acknowledge(alarm.id, "anna")
    assert (acked.acknowledged_by, acked.acknowledged_at is not None) == ("anna", True)
    assert e.open_alarms() == [] and e.text() == ""
    e.on_result("NG")  # acknowledged while active: stays until its cause clears
    b = e.open_alarms()[0]
    e.acknowledge(b.id, "ben")
    assert [a.id for a in e.open_alarms()] == [b.id] and e.unacknowledged() == []
    e.on_result("OK")
    assert e.open_alarms() == []
    assert [ev for ev, _ in events] == ["raised", "cleared", "acknowledged", "raised",
                                         "acknowledged", "cleared"]
    with pytest.raises(AlarmError, match="no open alarm with id 'nope'"):
        e.acknowledge("nope", "anna")
    e.on_result("NG")
    with pytest.raises(AlarmError, match="acknowledging user"):
        e.acknowledge(e.open_alarms()[0].id, "  ")
    assert [a.acknowledged_by for a in e.acknowledge_all("line")] == ["line"]


def test_changing_rules_clears_alarms_of_rules_no_longer_set():
    e, events = engine(consecutive_ng=1)
    e.on_result("NG")
    e.set_rules(AlarmRules(camera_fault=False, line_down=False), "b")
    assert events[-1] == ("cleared", "consecutive_ng") and e.recipe == "b"
    assert len(e.unacknowledged()) == 1  # still to be acknowledged


def test_alarms_go_to_the_line_interface_and_the_alarms_table(tmp_path):
    line = LineInterface(LineConfig(), [])
    e, _ = engine(consecutive_ng=2)
    link = LineAlarm(line, e)
    db = tmp_path / "results.sqlite"
    log = AlarmLog(db)
    e.add_listener(log)
    e.on_result("NG")
    assert line.state().alarm == ""
    e.on_result("NG")
    assert line.state().alarm == "2 NG parts in a row (alarm at 2)"
    aid = e.open_alarms()[0].id
    e.on_result("OK")
    assert line.state().alarm != ""  # cleared, not acknowledged: the light stays on
    e.acknowledge(aid, "anna")
    assert line.state().alarm == ""
    link.close()
    assert log.flush() and log.close()
    (a,) = read_alarms(ResultsQuery(db))
    assert (a.id, a.rule, a.recipe, a.acknowledged_by) == (aid, "consecutive_ng", "a", "anna")
    assert a.raised_at < a.cleared_at < a.acknowledged_at


def test_station_alarm_survives_the_heartbeat_beside_the_links_own():
    down = RecordingTransport("plc", state="down")
    line = LineInterface(LineConfig(), [down])
    line.update_state(alarm="camera: stalled")
    assert line.state().alarm == "camera: stalled; line link plc down (in-process)"
    # the heartbeat recomputes it the same way (it used to overwrite it with the links' own)
    assert line._alarm_text(line.alarm) == line.state().alarm


def test_station_alarms_sample_status_and_acknowledge_all(tmp_path):
    class Status:
        state, fault, received, skipped = "streaming", "stalled", 10, 0

    class Session:
        mode = "live"

        def status(self):
            return Status()

    class Audit:
        entries = []

        def submit(self, user, role, action, target=None, old=None, new=None, reason=None, *, time=None):
            self.entries.append((user, role, action, target, new["text"], time is not None))

    line = LineInterface(LineConfig(), [])
    sa = StationAlarms(line=line, db_path=tmp_path / "r.sqlite", disks={"archive": tmp_path},
                       free=lambda p: 1.0, audit=Audit())
    sample = sample_status(Session(), line, {"archive": tmp_path}, free=lambda p: 1.0)
    assert (sample.camera_fault, sample.live, sample.free_mb) == ("stalled", True, {"archive": 1.0})
    sa.tick(Session())
    assert line.state().alarm == "camera: stalled"
    assert [a.acknowledged_by for a in sa.acknowledge_all("line")] == ["line"]
    assert sa.audit.entries == [("line", "operator", "alarm_ack", "camera_fault", "camera: stalled", True)]
    sa.engine.on_status(StatusSample(free_mb={"archive": 1.0}))  # camera fine: cleared
    assert sa.engine.open_alarms() == []
    with pytest.raises(AlarmError):
        sa.acknowledge("gone", "anna")
    assert sa.close()
    assert line.state().alarm == ""


def test_recipe_alarms_table_is_validated_and_round_trips():
    data = {"consecutive_ng": 5, "yield_window": 200, "yield_below_pct": 90,
            "skip_above_pct": 20.0, "min_free_mb": 500, "line_down": False}
    r = Recipe.from_dict("bottle", {"alarms": data})
    assert r.alarms == AlarmRules(5, 200, 90.0, True, 20.0, 1000, 500.0, False)
    assert Recipe.from_dict("bottle", r.to_dict()).alarms == r.alarms
    assert Recipe.from_dict("bottle", {}).alarms is None
    for bad, msg in (({"consecutive_ng": 0}, "alarms.consecutive_ng must be a whole number from 1"),
                     ({"yield_window": 10}, "go together"),
                     ({"yield_window": 10, "yield_below_pct": 120}, "yield_below_pct must be a percentage"),
                     ({"skip_above_pct": -1}, "skip_above_pct"),
                     ({"skip_window": 5}, "skip_window must be a whole number from 10"),
                     ({"min_free_mb": float("nan")}, "min_free_mb must be a number"),
                     ({"camera_fault": "yes"}, "camera_fault must be true or false"),
                     ({"stack_light": 1}, "unknown key alarms.stack_light")):
        with pytest.raises(RecipeError, match=msg) as exc:
            Recipe.from_dict("bottle", {"alarms": bad})
        assert str(exc.value).startswith("recipe 'bottle': ")
    with pytest.raises(ValueError, match="alarms must be a table"):
        check_alarm_rules([1])


def test_acknowledgement_is_written_to_the_real_audit_trail(tmp_path):
    from core.audit import AuditTrail, verify

    db = tmp_path / "results.sqlite"
    trail = AuditTrail(db)
    sa = StationAlarms(db_path=db, audit=trail, clock=Clock())
    sa.engine.set_rules(AlarmRules(consecutive_ng=1, line_down=False), "a")
    sa.engine.on_result("NG")
    alarm = sa.acknowledge(sa.engine.open_alarms()[0].id, "anna", "engineer")
    assert sa.close()
    trail.close()
    (entry,) = [e for e in trail.entries() if e.action == "alarm_ack"]
    assert (entry.user, entry.role, entry.target, entry.time) == ("anna", "engineer", "consecutive_ng",
                                                                    alarm.acknowledged_at)
    assert verify(db).ok
