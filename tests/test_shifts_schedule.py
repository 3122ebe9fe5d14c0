"""Shift schedule: across midnight, DST in Europe/Berlin (spring and autumn), the config loader."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core.shifts.config import ShiftConfigError, load_schedule, schedule_from_dict
from core.shifts.schedule import ShiftSchedule

BERLIN = ZoneInfo("Europe/Berlin")
THREE = {"early": "06:00", "late": "14:00", "night": "22:00"}


def at(y, m, d, hh, mm=0, tz=BERLIN, fold=0) -> float:
    return dt.datetime(y, m, d, hh, mm, tzinfo=tz, fold=fold).timestamp()


def test_shift_at_finds_each_shift_and_the_night_runs_across_midnight():
    s = ShiftSchedule.daily(THREE, "Europe/Berlin")
    assert s.shift_at(at(2026, 6, 10, 6)).name == "early"  # start inclusive
    assert s.shift_at(at(2026, 6, 10, 13, 59)).name == "early"
    assert s.shift_at(at(2026, 6, 10, 14)).name == "late"
    night = s.shift_at(at(2026, 6, 11, 1, 30))
    assert night.name == "night" and night.date == dt.date(2026, 6, 10)
    assert (night.start, night.end) == (at(2026, 6, 10, 22), at(2026, 6, 11, 6))
    assert s.shift_at(at(2026, 6, 10, 23)) == night
    assert s.previous(s.shift_at(at(2026, 6, 11, 7))) == night


def test_single_shift_lasts_a_day():
    s = ShiftSchedule.daily({"all": "06:00"}, "UTC")
    span = s.shift_at(at(2026, 1, 2, 5, tz=dt.timezone.utc))
    assert span.date == dt.date(2026, 1, 1) and span.hours == 24


def test_night_shift_is_7_hours_in_spring_and_9_in_autumn():
    s = ShiftSchedule.daily(THREE, BERLIN)
    spring = s.shift_at(at(2026, 3, 29, 4))  # clocks jump 02:00 -> 03:00 that night
    autumn = s.shift_at(at(2026, 10, 25, 4))  # clocks go back 03:00 -> 02:00
    assert spring.name == autumn.name == "night"
    assert spring.hours == 7 and autumn.hours == 9
    assert s.shift_at(at(2026, 3, 29, 10)).hours == 8  # the day shifts keep their length


def test_start_inside_the_spring_gap_begins_when_the_clocks_jump():
    s = ShiftSchedule.daily({"day": "08:00", "graveyard": "02:30"}, BERLIN)
    span = s.span_on(dt.date(2026, 3, 29), "graveyard")
    assert span.start == at(2026, 3, 29, 3)  # 02:30 does not exist: 03:00 CEST (01:00 UTC)
    assert span.start == dt.datetime(2026, 3, 29, 1, tzinfo=dt.timezone.utc).timestamp()
    assert s.shift_at(span.start - 1).name == "day"
    assert s.shift_at(span.start).name == "graveyard" and span.hours == 5
    assert s.span_on(dt.date(2026, 3, 28), "day").hours == 18  # 08:00 CET -> 03:00 CEST


def test_start_repeated_in_autumn_begins_at_its_first_occurrence():
    s = ShiftSchedule.daily({"day": "08:00", "graveyard": "02:30"}, BERLIN)
    span = s.span_on(dt.date(2026, 10, 25), "graveyard")
    assert span.start == at(2026, 10, 25, 2, 30, fold=0)  # 02:30 CEST, the first one
    assert span.hours == 6.5  # the hour is lived twice: 02:30 CEST to 08:00 CET
    assert s.shift_at(at(2026, 10, 25, 2, 45, fold=1)) == span


def test_schedule_validation():
    with pytest.raises(ValueError, match="at least one"):
        ShiftSchedule([], "UTC")
    one = ShiftSchedule.daily({"a": "06:00"}, "UTC").shifts
    with pytest.raises(ValueError, match="'a' is used twice"):
        ShiftSchedule([*one, *one], "UTC")
    with pytest.raises(ValueError, match="no shift named 'b'"):
        ShiftSchedule(one, "UTC").span_on(dt.date(2026, 1, 1), "b")


@pytest.mark.parametrize("data, message", [
    ({"shift": []}, "at least one"),
    ({"shift": [{"name": "a", "start": "6:00"}]}, "shift 'a' start must be a time HH:MM"),
    ({"shift": [{"name": "a", "start": "24:00"}]}, "HH:MM"),
    ({"shift": [{"name": "a", "start": "06:00"}, {"name": "a", "start": "07:00"}]}, "'a' is used twice"),
    ({"shift": [{"name": "a", "start": "06:00"}, {"name": "b", "start": "06:00"}]}, "two shifts start at 06:00"),
    ({"shift": [{"name": "", "start": "06:00"}]}, "shift #1: name"),
    ({"shift": [{"name": "a", "start": "06:00", "end": "x"}]}, "unknown key 'end'"),
    ({"shift": {"name": "a"}}, "list of"),
    ({"timezone": "Mars/Olympus", "shift": [{"name": "a", "start": "06:00"}]}, "unknown time zone"),
    ({"timezone": 5}, "IANA"),
])
def test_config_errors_name_the_field(data, message):
    with pytest.raises(ShiftConfigError, match=message) as e:
        schedule_from_dict(data)
    assert "\n" not in str(e.value)


def test_loader_reads_station_toml_and_ignores_other_tables(tmp_path):
    assert load_schedule(tmp_path) is None  # no file: no shifts
    (tmp_path / "station.toml").write_text(
        'timezone = "Europe/Berlin"\n[operators]\nallow_stop = true\n'
        '[[shift]]\nname = "late"\nstart = "14:00"\n[[shift]]\nname = "early"\nstart = "06:00"\n')
    s = load_schedule(tmp_path)
    assert s.names == ("early", "late") and s.tz == BERLIN
    (tmp_path / "station.toml").write_text("[[shift]\n")
    with pytest.raises(ShiftConfigError, match="not valid TOML"):
        load_schedule(tmp_path)
