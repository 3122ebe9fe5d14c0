"""ScoreHistory, ShiftCounters, rendering helpers."""

import numpy as np
import pytest

from core.inspection import ScoreHistory, ShiftCounters
from core.recipe import Verdict


def test_history_keeps_last_scores_in_order():
    h = ScoreHistory(capacity=4)
    for s in [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]:
        h.add(s)
    assert len(h) == 4 and h.total_added == 6
    np.testing.assert_allclose(h.scores(), [0.3, 0.4, 0.5, 0.6])
    np.testing.assert_allclose(h.scores(last_n=2), [0.5, 0.6])
    np.testing.assert_allclose(h.scores(last_n=99), [0.3, 0.4, 0.5, 0.6])
    h.clear()
    assert len(h) == 0 and h.scores().size == 0


def test_history_what_if_recounts_under_other_thresholds():
    h = ScoreHistory(capacity=100)
    for s in [0.1, 0.2, 0.35, 0.5, 0.7, 0.9, float("nan")]:
        h.add(s)
    c = h.what_if(0.3, 0.6)
    assert (c.total, c.ok, c.review, c.ng) == (7, 2, 2, 3)  # NaN counts as NG
    c = h.what_if(0.8, 0.8)  # no REVIEW band
    assert (c.ok, c.review, c.ng) == (5, 0, 2)
    c = h.what_if(0.3, 0.6, last_n=3)  # 0.7, 0.9, nan
    assert (c.total, c.ok, c.review, c.ng) == (3, 0, 0, 3)
    with pytest.raises(ValueError, match="ok_limit"):
        h.what_if(0.7, 0.2)
    with pytest.raises(ValueError, match="capacity"):
        ScoreHistory(0)


def test_counters_add_up_and_reset():
    c = ShiftCounters()
    for v in [Verdict.OK, Verdict.OK, Verdict.NG, "REVIEW", Verdict.OK]:
        c.add(v)
    s = c.snapshot()
    assert (s.inspected, s.ok, s.review, s.ng) == (5, 3, 1, 1)
    assert s.inspected == s.ok + s.review + s.ng
    assert s.yield_pct == pytest.approx(60.0)
    with pytest.raises(ValueError, match="unknown verdict 'MAYBE'"):
        c.add("MAYBE")
    c.reset()
    s = c.snapshot()
    assert (s.inspected, s.yield_pct) == (0, None)
