"""The Line I/O page's pure parts: the link indicator's three states, typed values, and
which recipe a RECIPE command means."""

import pytest

from app.lineio.indicator import LINK_COLOURS, indicator_view
from app.lineio.signals_panel import clock_of, shown_value
from app.lineio.values import format_option, parse_force_value, parse_option
from app.workers.line_commands import LineCommandError, resolve_recipe
from core.lineio.contract import LineOutput, LinkStatus


def test_indicator_hidden_green_amber_red():
    assert not indicator_view([]).visible
    up = [LinkStatus("modbus-server :5020", "connected"), LinkStatus("mqtt 127.0.0.1:1883", "connected")]
    v = indicator_view(up)
    assert v.visible and v.colour == LINK_COLOURS["connected"] and v.text == "Line I/O: 2/2 links"
    assert "modbus-server :5020: connected" in v.tooltip and "mqtt" in v.tooltip
    connecting = [up[0], LinkStatus("mqtt", "connecting", "broker not answering yet")]
    v = indicator_view(connecting, alarm="mqtt connecting")
    assert v.colour == LINK_COLOURS["connecting"] and "1/2 links" in v.text and "connecting" in v.text
    down = [up[0], LinkStatus("mqtt", "down", "connection refused")]
    v = indicator_view(down, alarm="mqtt down: connection refused")
    assert v.colour == LINK_COLOURS["down"] and v.text == "Line I/O: mqtt down: connection refused"
    assert "connection refused" in v.tooltip and "modbus-server" in v.tooltip
    v = indicator_view([], error="line_io.toml: mapping.deadline_ms must be 0-600000")
    assert v.visible and v.colour == LINK_COLOURS["down"] and "deadline_ms" in v.text


@pytest.mark.parametrize("text,value", [("5020", 5020), ("0.5", 0.5), ("true", True), ("127.0.0.1", "127.0.0.1"),
                                        ('"5020"', "5020"), ("line/a b", "line/a b"), ("", "")])
def test_options_read_as_toml_and_write_back(text, value):
    assert parse_option("k", text) == value
    assert parse_option("k", format_option(value)) == value


def test_force_values_per_output():
    assert parse_force_value(LineOutput.NG, "on") is True and parse_force_value(LineOutput.OK, "0") is False
    assert parse_force_value(LineOutput.SEQ, " 17 ") == 17 and parse_force_value(LineOutput.SCORE, "0.25") == 0.25
    for output, text, said in ((LineOutput.NG, "maybe", "NG takes on / off"), (LineOutput.SEQ, "1.5", "whole"),
                               (LineOutput.SCORE, "nan", "finite"), (LineOutput.SCORE, "x", "number")):
        with pytest.raises(ValueError, match=said):
            parse_force_value(output, text)


def test_recipe_by_name_or_number():
    names = ["alpha", "beta", "gamma"]
    assert resolve_recipe("beta", names) == "beta"
    assert resolve_recipe(3, names) == "gamma" and resolve_recipe(" 1 ", names) == "alpha"
    for bad, said in ((0, "not in the list"), (4, r"1-3"), ("delta", "no recipe named"), (True, "no recipe")):
        with pytest.raises(LineCommandError, match=said):
            resolve_recipe(bad, names)


def test_shown_values_and_clock():
    assert shown_value(True) == "ON" and shown_value(None) == "–" and shown_value(0.123456) == "0.1235"
    assert clock_of(10.0, now_mono=10.0, now_wall=0.5).endswith(".500")
