"""Thresholds.from_mapping: the one way thresholds are built from a dict."""

import pytest

from core.recipe import Thresholds, Verdict


def test_from_mapping_reads_the_three_limits_and_ignores_other_keys():
    calibration = {"ok_limit": 0.2, "ng_limit": 0.4, "pixel": 1, "false_reject_target": 0.01}
    t = Thresholds.from_mapping(calibration)
    assert t == Thresholds(0.2, 0.4, 1.0) and isinstance(t.pixel, float)
    assert Thresholds.from_mapping(t.to_dict()) == t
    assert [t.verdict(s) for s in (0.1, 0.2, 0.4, float("nan"))] == [
        Verdict.OK, Verdict.REVIEW, Verdict.NG, Verdict.NG]


@pytest.mark.parametrize("m, message", [
    ("abc", "limits must be a table"),
    ({"ok_limit": 0.1, "ng_limit": 0.2}, "missing key limits.pixel"),
    ({"ok_limit": "0.1", "ng_limit": 0.2, "pixel": 0.5}, "limits.ok_limit must be a number"),
    ({"ok_limit": True, "ng_limit": 0.2, "pixel": 0.5}, "limits.ok_limit must be a number"),
    ({"ok_limit": 0.1, "ng_limit": float("inf"), "pixel": 0.5}, "limits.ng_limit must be a finite"),
    ({"ok_limit": 0.1, "ng_limit": 0.2, "pixel": 1.5}, r"limits.pixel must be in \[0, 1\]"),
    ({"ok_limit": 0.3, "ng_limit": 0.2, "pixel": 0.5},
     r"limits: ok_limit \(0.3\) must not exceed ng_limit \(0.2\)"),
])
def test_from_mapping_names_the_bad_field(m, message):
    with pytest.raises(ValueError, match=message):
        Thresholds.from_mapping(m, "limits")


def test_a_long_bad_value_is_cut_in_the_message():
    with pytest.raises(ValueError) as exc:
        Thresholds.from_mapping({"ok_limit": "x" * 10_000, "ng_limit": 0.2, "pixel": 0.5})
    assert len(str(exc.value)) < 120 and str(exc.value).endswith("...")
