"""line_io.toml: defaults when absent, every field checked with a message naming the file and
the field, unknown keys refused, atomic round trip; the recipe's [line_io] override."""

from __future__ import annotations

import pytest

from core.lineio.config import LineConfig, Mapping, TransportConfig, load_line_config, save_line_config
from core.lineio.registry import LineConfigError
from core.recipe import Recipe, RecipeError

EXAMPLE = """
[mapping]
review_as = "review"
deadline_ms = 250
fail_safe = "error"
heartbeat_ms = 500

[[transport]]
kind = "modbus-server"
enabled = true
port = 5020

[[transport]]
kind = "mqtt"
enabled = false
host = "broker.local"
"""


def test_absent_file_is_the_defaults_without_transports(tmp_path):
    cfg = load_line_config(tmp_path)
    assert cfg == LineConfig() and cfg.transports == ()
    assert cfg.mapping == Mapping("ng", 0, "reject", 1000)


def test_example_file_loads_and_round_trips(tmp_path):
    (tmp_path / "line_io.toml").write_text(EXAMPLE)
    cfg = load_line_config(tmp_path)
    assert cfg.mapping == Mapping("review", 250, "error", 500)
    assert cfg.transports == (TransportConfig("modbus-server", {"port": 5020}, True),
                              TransportConfig("mqtt", {"host": "broker.local"}, False))
    save_line_config(tmp_path, cfg)
    assert load_line_config(tmp_path) == cfg
    assert not [p for p in tmp_path.iterdir() if p.name != "line_io.toml"]  # no temporary left


@pytest.mark.parametrize("text, message", [
    ("[mapping]\nreview_as = 'maybe'", "mapping.review_as must be one of ok, ng, review, got 'maybe'"),
    ("[mapping]\ndeadline_ms = -1", "mapping.deadline_ms must be an integer 0-600000"),
    ("[mapping]\ndeadline_ms = 600001", "mapping.deadline_ms must be an integer 0-600000"),
    ("[mapping]\ndeadline_ms = 1.5", "mapping.deadline_ms must be an integer"),
    ("[mapping]\ndeadline_ms = true", "mapping.deadline_ms must be an integer"),
    ("[mapping]\nheartbeat_ms = 99", "mapping.heartbeat_ms must be an integer 100-60000"),
    ("[mapping]\nfail_safe = 'ok'", "mapping.fail_safe must be one of reject, error"),
    ("[mapping]\nspeed = 3", "unknown key mapping.'speed'"),
    ("mapping = 3", "[mapping] must be a table"),
    ("colour = 'red'", "unknown key 'colour'"),
    ("[[transport]]\nport = 1", "transport 1: missing key kind"),
    ("[[transport]]\nkind = 'fieldbus'", "transport 1: unknown kind 'fieldbus'"),
    ("[[transport]]\nkind = 'mqtt'\nenabled = 'yes'", "transport 1 (mqtt): enabled must be true or false"),
    ("transport = 'x'", "transport must be an array"),
    ("[mapping\n", "not valid TOML"),
])
def test_bad_fields_are_named_in_one_line(tmp_path, text, message):
    (tmp_path / "line_io.toml").write_text(text)
    with pytest.raises(LineConfigError) as exc:
        load_line_config(tmp_path)
    said = str(exc.value)
    assert said.startswith(str(tmp_path / "line_io.toml")) and message in said and "\n" not in said


def test_explicit_file_must_exist(tmp_path):
    with pytest.raises(LineConfigError, match="no such file"):
        load_line_config(tmp_path, tmp_path / "other.toml")


def test_mapping_refuses_bad_values_directly():
    with pytest.raises(LineConfigError, match="line_io mapping: deadline_ms"):
        Mapping(deadline_ms="100")


def test_merged_applies_a_recipe_table_and_refuses_station_only_keys():
    station = Mapping("ng", 0, "reject", 700)
    assert station.merged(None) is station and station.merged({}) is station
    assert station.merged({"deadline_ms": 80, "fail_safe": "error"}) == Mapping("ng", 80, "error", 700)
    with pytest.raises(LineConfigError, match="recipe line_io: unknown key 'heartbeat_ms'"):
        station.merged({"heartbeat_ms": 200})
    with pytest.raises(LineConfigError, match="review_as must be one of"):
        station.merged({"review_as": "yes"})


def test_recipe_line_io_round_trips_and_is_validated():
    r = Recipe.from_dict("part", {"name": "part", "line_io": {"review_as": "ok", "deadline_ms": 120}})
    assert r.line_io == {"review_as": "ok", "deadline_ms": 120}
    again = r.validated()
    assert again.line_io == r.line_io and again.to_dict()["line_io"] == r.line_io
    assert Recipe.from_dict("part", {"name": "part"}).line_io is None
    assert "line_io" not in Recipe("part").to_dict()
    with pytest.raises(RecipeError, match="recipe 'part': line_io: deadline_ms must be an integer"):
        Recipe.from_dict("part", {"line_io": {"deadline_ms": "soon"}})
    with pytest.raises(RecipeError, match="line_io: unknown key 'port'"):
        Recipe.from_dict("part", {"line_io": {"port": 1}})
    with pytest.raises(RecipeError, match="line_io: must be a table"):
        Recipe.from_dict("part", {"line_io": 3})


def test_recipe_line_io_survives_the_recipe_store(tmp_path):
    from core.store.recipe_store import RecipeStore

    store = RecipeStore(tmp_path)
    store.save(Recipe("part", line_io={"fail_safe": "error"}))
    assert store.get("part").line_io == {"fail_safe": "error"}
