"""Metrics against hand-worked cases and brute-force reference implementations."""

from __future__ import annotations

import numpy as np
import pytest

from core.evaluation.metrics import (
    aupro,
    average_precision,
    best_f1_threshold,
    f1_at,
    pixel_auroc_ap,
    roc_auc,
    roc_curve,
    summarize,
    threshold_for_false_reject,
)

LABELS = [0, 0, 1, 1]
SCORES = [0.1, 0.4, 0.35, 0.8]


# ------------------------------------------------------------------ brute-force references


def _ref_auroc(y, s) -> float:
    pos, neg = s[y == 1], s[y == 0]
    wins = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return wins / (pos.size * neg.size)


def _ref_ap(y, s) -> float:
    ap, prev_recall = 0.0, 0.0
    for t in sorted(set(s.tolist()), reverse=True):
        pred = s >= t
        tp = (pred & (y == 1)).sum()
        recall = tp / (y == 1).sum()
        ap += (recall - prev_recall) * tp / pred.sum()
        prev_recall = recall
    return ap


def _ref_best_f1(y, s) -> tuple[float, float]:
    best = (-1.0, 0.0)
    for t in sorted(set(s.tolist())):
        pred = s >= t
        tp = (pred & (y == 1)).sum()
        f1 = 2 * tp / (pred.sum() + (y == 1).sum())
        if f1 >= best[0]:
            best = (f1, t)
    return best[1], best[0]


def _ref_aupro(masks, maps, limit) -> float:
    """Exact PRO curve at every distinct score, via scipy-free component labelling."""
    import cv2

    regions = []  # (image index, boolean region mask)
    for i, m in enumerate(masks):
        n, lab = cv2.connectedComponents((m > 0).astype(np.uint8), connectivity=8)
        regions += [(i, lab == k) for k in range(1, n)]
    good = np.concatenate([mp[m == 0] for m, mp in zip(masks, maps)])
    fprs, pros = [0.0], [0.0]
    for t in sorted(set(np.concatenate([mp.ravel() for mp in maps]).tolist()), reverse=True):
        fprs.append((good >= t).mean())
        pros.append(np.mean([(maps[i][r] >= t).mean() for i, r in regions]))
    f, p = np.array(fprs), np.array(pros)
    p_lim = np.interp(limit, f, p) if f[-1] >= limit else p[-1]
    keep = f < limit
    f, p = np.r_[f[keep], limit], np.r_[p[keep], p_lim]
    return float(np.sum(np.diff(f) * (p[1:] + p[:-1]) / 2) / limit)


def _random_case(rng, n=60, levels=7):
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = rng.integers(0, levels, n).astype(float) / levels + 0.3 * y * rng.random(n).round(1)
    return y, s


# ------------------------------------------------------------------ ROC / AUROC


def test_auroc_hand_case() -> None:
    assert roc_auc(LABELS, SCORES) == pytest.approx(0.75)


def test_roc_curve_hand_case() -> None:
    fpr, tpr, thr = roc_curve(LABELS, SCORES)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.8, 0.4, 0.35, 0.1])


def test_auroc_ties_form_one_step() -> None:
    # all four scores tied: one diagonal step, AUROC 0.5 regardless of order
    assert roc_auc([0, 1, 0, 1], [0.5] * 4) == 0.5
    fpr, tpr, thr = roc_curve([1, 0, 1, 0], [0.5] * 4)
    np.testing.assert_allclose(fpr, [0, 1])
    np.testing.assert_allclose(tpr, [0, 1])
    np.testing.assert_array_equal(thr, [np.inf, 0.5])
    # pos {0.9, 0.5}, neg {0.5, 0.1}: pairs win 1 + 1 + 0.5 (tie) + 1 = 3.5 of 4
    assert roc_auc([1, 1, 0, 0], [0.9, 0.5, 0.5, 0.1]) == pytest.approx(0.875)
    assert roc_auc([0, 0, 1, 1], [0.5, 0.1, 0.9, 0.5]) == pytest.approx(0.875)


def test_auroc_perfect_and_inverted() -> None:
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.4, 0.3, 0.2, 0.1]) == 0.0
    assert roc_auc(np.array([False, True]), np.array([3, 7])) == 1.0  # bool labels, int scores


def test_auroc_matches_roc_curve_trapezoid_and_brute_force() -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        y, s = _random_case(rng)
        fpr, tpr, _ = roc_curve(y, s)
        trapezoid = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
        assert roc_auc(y, s) == pytest.approx(trapezoid, abs=1e-12)
        assert roc_auc(y, s) == pytest.approx(_ref_auroc(y, s), abs=1e-12)


@pytest.mark.parametrize("fn", [roc_auc, roc_curve])
def test_auroc_one_class_raises(fn) -> None:
    with pytest.raises(ValueError, match="good"):
        fn([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="defective"):
        fn([0, 0], [0.2, 0.3])


@pytest.mark.parametrize(
    "labels, scores, message",
    [
        ([0, 1, 2], [0.1, 0.2, 0.3], "labels must be 0 or 1"),
        ([0, 1], [0.1, 0.2, 0.3], "equal length"),
        ([0, 1], [0.1, np.nan], "NaN"),
        ([0, 1], ["a", "b"], "real numbers"),
    ],
)
def test_bad_inputs_raise(labels, scores, message) -> None:
    with pytest.raises(ValueError, match=message):
        roc_auc(labels, scores)


# ------------------------------------------------------------------ AP and F1


def test_average_precision_hand_case() -> None:
    # ranked: 0.8 P (prec 1, recall .5), 0.4 N, 0.35 P (prec 2/3, recall 1)
    assert average_precision(LABELS, SCORES) == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)
    # a tie between a positive and a negative at the top is one step of precision 1/2
    assert average_precision([1, 0, 1], [0.9, 0.9, 0.2]) == pytest.approx(0.5 * 0.5 + 0.5 * 2 / 3)
    assert average_precision([1, 1], [0.1, 0.2]) == 1.0
    with pytest.raises(ValueError, match="defective"):
        average_precision([0, 0], [0.1, 0.2])


def test_average_precision_matches_brute_force() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        y, s = _random_case(rng)
        assert average_precision(y, s) == pytest.approx(_ref_ap(y, s), abs=1e-12)


def test_best_f1_hand_case() -> None:
    # t=0.8: tp1 fp0 fn1 -> 2/3; t=0.35: tp2 fp1 -> 4/5; t=0.1: tp2 fp2 -> 2/3
    threshold, f1 = best_f1_threshold(LABELS, SCORES)
    assert (threshold, f1) == (0.35, pytest.approx(0.8))
    assert f1_at(LABELS, SCORES, 0.35) == pytest.approx(0.8)
    assert f1_at(LABELS, SCORES, 0.36) == pytest.approx(0.5)  # 0.4 N, 0.8 P: tp1 fp1 fn1
    assert f1_at(LABELS, SCORES, 0.9) == 0.0
    # equal F1 2/3 at 0.9 (tp1 fp0) and at 0.3 (tp2 fp2): the highest threshold wins
    assert best_f1_threshold([1, 0, 0, 1], [0.9, 0.5, 0.4, 0.3]) == (0.9, pytest.approx(2 / 3))


def test_best_f1_matches_brute_force() -> None:
    rng = np.random.default_rng(2)
    for _ in range(20):
        y, s = _random_case(rng)
        t, f1 = best_f1_threshold(y, s)
        ref_t, ref_f1 = _ref_best_f1(y, s)
        assert (t, f1) == (ref_t, pytest.approx(ref_f1, abs=1e-12))
        assert f1_at(y, s, t) == pytest.approx(f1, abs=1e-12)


def test_f1_threshold_precision_is_exact_for_float32() -> None:
    s32 = np.float32([0.1, 0.3])
    t = float(s32[1]) + 1e-12  # just above the float32 value: it must not count
    assert f1_at([0, 1], s32, t) == 0.0
    assert f1_at([0, 1], s32, float(s32[1])) == 1.0


# ------------------------------------------------------------------ false-reject threshold


def test_threshold_for_false_reject() -> None:
    good = np.arange(1, 11, dtype=np.float64)  # 1..10
    t = threshold_for_false_reject(good, 0.1)  # one reject allowed: just above 9
    assert 9.0 < t <= 9.0 + 1e-12
    assert (good >= t).sum() == 1
    t0 = threshold_for_false_reject(good, 0.0)
    assert 10.0 < t0 and (good >= t0).sum() == 0
    assert (good >= threshold_for_false_reject(good, 0.29)).sum() == 2
    assert (good >= threshold_for_false_reject(good, 0.3)).sum() == 3  # 0.3*10 is not 2.99..
    # ties: with 8,9,9,9 a 1-in-4 rate cannot split the tie: no 9 may be rejected
    assert (np.array([8, 9, 9, 9]) >= threshold_for_false_reject([8, 9, 9, 9], 0.25)).sum() == 0
    s32 = np.float32([0.1, 0.2, 0.3])
    t32 = threshold_for_false_reject(s32, 0.0)
    assert (s32 >= np.float32(t32)).sum() == 0 and (s32 >= t32).sum() == 0
    for bad in (-0.1, 1.0):
        with pytest.raises(ValueError, match="rate"):
            threshold_for_false_reject(good, bad)
    with pytest.raises(ValueError, match="non-empty"):
        threshold_for_false_reject([], 0.1)


# ------------------------------------------------------------------ pixel metrics


def _two_region_case():
    """10x10 image: region A (2 px) and region B (8 px); 90 good pixels."""
    mask = np.zeros((10, 10), np.uint8)
    mask[0, 0:2] = 1  # A
    mask[5:7, 3:7] = 1  # B, 8 px
    amap = np.zeros((10, 10), np.float32)
    amap[0, 0:2] = 0.9  # A fully found at 0.9
    amap[5, 3:7] = 0.9  # half of B at 0.9
    amap[6, 3:7] = 0.1  # other half of B at 0.1
    amap[9, 0:9] = 0.5  # 9 of 90 good pixels at 0.5 -> FPR 0.1
    return mask, amap


def test_aupro_hand_case_two_regions() -> None:
    mask, amap = _two_region_case()
    # curve: (0, 0.75) -> (0.1, 0.75) [t=0.5] -> (0.1, 1.0) [t=0.1] -> (1, 1) [t=0]
    # area to 0.3 = 0.1*0.75 + 0.2*1 = 0.275 -> normalised 0.275/0.3
    assert aupro([mask], [amap]) == pytest.approx(0.275 / 0.3)
    # to 0.05: 0.05*0.75 / 0.05
    assert aupro([mask], [amap], fpr_limit=0.05) == pytest.approx(0.75)
    # mean over regions, not pixels: a pixel-weighted overlap would be (2+4)/10 = 0.6
    assert aupro([mask], [amap], fpr_limit=0.05) != pytest.approx(0.6)


def test_aupro_perfect_and_worst() -> None:
    mask, _ = _two_region_case()
    assert aupro([mask], [mask.astype(np.float32)]) == pytest.approx(1.0)
    assert aupro([mask], [1.0 - mask.astype(np.float32)]) == pytest.approx(0.0)


def test_aupro_matches_exact_reference() -> None:
    rng = np.random.default_rng(3)
    masks, maps = [], []
    for _ in range(3):
        m = np.zeros((12, 12), np.uint8)
        m[rng.integers(0, 6) : rng.integers(7, 12), rng.integers(0, 3) : rng.integers(4, 7)] = 255
        m[10:12, 10:12] = 255  # a separate small region
        mp = rng.integers(0, 20, (12, 12)) / 20 + 0.4 * (m > 0) * rng.random((12, 12))
        mp = mp.astype(np.float32)
        masks.append(m)
        maps.append(mp)
    ref = _ref_aupro(masks, maps, 0.3)
    assert aupro(masks, maps, num_thresholds=10_000) == pytest.approx(ref, abs=1e-9)
    assert aupro(masks, maps) == pytest.approx(ref, abs=0.01)  # 200 thresholds: close


def test_aupro_diagonal_regions_are_one_region_with_8_connectivity() -> None:
    mask = np.zeros((6, 6), np.uint8)
    mask[1, 1] = mask[2, 2] = 1  # diagonal neighbours: one region
    mask[4, 4] = 1
    amap = np.zeros((6, 6), np.float32)
    amap[1, 1] = 1.0  # half of the diagonal region
    # PRO(>0) = (0.5 + 0) / 2 regions = 0.25 at FPR 0 (4-connectivity: 1/3 of 3 regions);
    # the tie group at 0 is one straight segment to (1, 1): PRO(0.01) = 0.25 + 0.75 * 0.01
    assert aupro([mask], [amap], fpr_limit=0.01) == pytest.approx((0.25 + 0.2575) / 2)


def test_pixel_auroc_ap_matches_image_level_functions() -> None:
    rng = np.random.default_rng(4)
    masks = [(rng.random((16, 16)) > 0.8).astype(np.uint8) for _ in range(4)]
    maps = [rng.random((16, 16)).astype(np.float32).round(2) + 0.2 * m for m in masks]
    y = np.concatenate([m.ravel() for m in masks])
    s = np.concatenate([m.ravel() for m in maps]).astype(np.float32)
    auroc, ap = pixel_auroc_ap(masks, maps)
    assert auroc == pytest.approx(_ref_auroc(y, s.astype(np.float64)), abs=1e-12)
    assert ap == pytest.approx(_ref_ap(y, s.astype(np.float64)), abs=1e-12)


def test_pixel_metric_errors() -> None:
    with pytest.raises(ValueError, match="image 0"):
        pixel_auroc_ap([np.zeros((4, 4))], [np.zeros((4, 5))])
    with pytest.raises(ValueError, match="2 masks but 1"):
        aupro([np.zeros((4, 4))] * 2, [np.zeros((4, 4))])
    with pytest.raises(ValueError, match="every mask is empty"):
        aupro([np.zeros((4, 4))], [np.zeros((4, 4))])
    with pytest.raises(ValueError, match="fpr_limit"):
        aupro([np.ones((4, 4))], [np.zeros((4, 4))], fpr_limit=0)
    with pytest.raises(ValueError, match="NaN"):
        pixel_auroc_ap([np.eye(4)], [np.full((4, 4), np.nan)])


# ------------------------------------------------------------------ summarize


def test_summarize_image_only() -> None:
    out = summarize(LABELS, SCORES)
    assert out == {
        "image_auroc": pytest.approx(0.75),
        "image_ap": pytest.approx(5 / 6),
        "image_f1": pytest.approx(0.8),
        "image_threshold": 0.35,
    }
    fixed = summarize(LABELS, SCORES, image_threshold=0.36)
    assert fixed["image_threshold"] == 0.36 and fixed["image_f1"] == pytest.approx(0.5)
    only_good = summarize([0, 0], [0.1, 0.2])
    assert only_good == dict.fromkeys(["image_auroc", "image_ap", "image_f1", "image_threshold"])


def test_summarize_with_masks_skips_defects_without_mask() -> None:
    mask, amap = _two_region_case()
    good_map = np.zeros((10, 10), np.float32)
    good_map[0, 0] = 0.95  # one false positive hotter than every defect
    unmasked_map = np.ones((10, 10), np.float32)  # would change every pixel metric if used
    out = summarize(
        [1, 0, 1, 0],
        [0.9, 0.2, 0.8, 0.1],
        # a None good mask counts as zeros; a None defect mask drops that image
        masks=[mask, None, None, np.zeros((10, 10), np.uint8)],
        maps=[amap, good_map, unmasked_map, np.zeros((10, 10), np.float32)],
    )
    zeros = np.zeros((10, 10), np.float32)
    used_masks, used_maps = [mask, zeros, zeros], [amap, good_map, zeros]
    y = np.concatenate([m.ravel() for m in used_masks])
    s = np.concatenate([m.ravel() for m in used_maps])
    assert out["pixel_auroc"] == pytest.approx(_ref_auroc(y, s.astype(np.float64)))
    assert out["pixel_ap"] == pytest.approx(_ref_ap(y, s.astype(np.float64)))
    assert out["aupro"] == pytest.approx(aupro(used_masks, used_maps))
    # by hand, 290 good pixels (one at 0.95, nine at 0.5): area to 0.3 is
    # 9/290 * 0.75 + (0.3 - 10/290) * 1  ->  normalised 1 - 3.25 / 87
    assert out["aupro"] == pytest.approx(1 - 3.25 / 87)
    assert (out["pixel_threshold"], out["pixel_f1"]) == pytest.approx(best_f1_threshold(y, s))
    assert out["image_auroc"] == 1.0
    fixed = summarize(
        [1, 0], [0.9, 0.2], masks=[mask, None], maps=[amap, good_map], pixel_threshold=0.5
    )
    assert fixed["pixel_threshold"] == 0.5
    assert fixed["pixel_f1"] == pytest.approx(f1_at(y[:200], s[:200], 0.5))


def test_summarize_pixel_metrics_none_without_defect_masks() -> None:
    maps = [np.ones((4, 4)), np.zeros((4, 4))]
    out = summarize([1, 0], [0.9, 0.1], masks=[None, None], maps=maps)
    for key in ("pixel_auroc", "pixel_ap", "aupro", "pixel_f1", "pixel_threshold"):
        assert key in out and out[key] is None
    with pytest.raises(ValueError, match="one mask and one map per image"):
        summarize([1, 0], [0.9, 0.1], masks=[None], maps=[np.ones((4, 4))])


def test_pixel_metrics_many_images() -> None:
    """Many images at once (small ones: timing at 300x256x256 belongs in bench/)."""
    rng = np.random.default_rng(5)
    n, h, w = 300, 64, 64
    masks = [np.zeros((h, w), np.uint8) for _ in range(n)]
    for m in masks[::3]:
        m[10:20, 10:30] = 1
    maps = [rng.random((h, w), dtype=np.float32) + 0.5 * m for m in masks]
    auroc, ap = pixel_auroc_ap(masks, maps)
    assert 0.8 < auroc < 1.0 and 0.0 < ap < 1.0
    assert 0.0 < aupro(masks, maps) < 1.0
