"""calibrate(): limits from held-out good scores (and known defects), as Thresholds."""

import numpy as np
import pytest

from core.evaluation.calibration import calibrate
from core.recipe import Thresholds, Verdict


def test_good_scores_only_put_at_most_the_target_at_or_above_the_ok_limit():
    good = np.linspace(0.10, 0.30, 201)
    t = calibrate(good, false_reject=0.05)
    assert isinstance(t, Thresholds) and t.pixel == 0.5
    assert np.mean(good >= t.ok_limit) <= 0.05
    assert t.ng_limit == pytest.approx(t.ok_limit + 2 * good.std() + 1e-6)
    assert Thresholds.from_mapping(t.to_dict()) == t  # valid: in [0, 1], ok <= ng


def test_known_defects_set_the_ng_limit_between_good_and_bad():
    good, bad = np.linspace(0.1, 0.3, 50), np.linspace(0.6, 0.9, 10)
    t = calibrate(good, 0.01, defect_scores=bad, pixel_threshold=0.42)
    assert t.ok_limit <= t.ng_limit and t.pixel == 0.42
    assert all(t.verdict(s) is Verdict.NG for s in bad)
    assert sum(t.verdict(s) is Verdict.NG for s in good) == 0


def test_limits_stay_within_scores_and_need_a_good_image():
    t = calibrate([0.99, 1.0, 1.0], 0.01)
    assert 0.0 <= t.ok_limit <= t.ng_limit <= 1.0
    with pytest.raises(ValueError, match="at least one held-out good image"):
        calibrate([], 0.01)
