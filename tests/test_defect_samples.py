"""Annotated defect folders (core/training/defect_samples.py): layouts, every bad file skipped
with its reason, scaling like the good images, crops that prefer defect pixels, the feed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from core.training.data import load_image_set
from core.training.defect_samples import (
    DefectFeed, DefectSet, DefectsRanOut, defect_batches, defect_crop, find_defects, load_defects, mix_in,
)


def _png(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def _image(h: int = 40, w: int = 60, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _mask(h: int = 40, w: int = 60, value: int = 255) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    m[10:14, 20:40] = value
    return m


def _mvtec(root: Path) -> Path:
    """An MVTec-like object: one good test image and six crack images, one of them usable."""
    test, gt = root / "test", root / "ground_truth"
    _png(test / "good" / "000.png", _image())
    _png(test / "crack" / "000.png", _image(seed=1))
    _png(gt / "crack" / "000_mask.png", _mask())
    _png(test / "crack" / "001.png", _image(seed=2))                    # no mask
    bad = _png(test / "crack" / "002.png", _image(seed=3))               # truncated image
    bad.write_bytes(bad.read_bytes()[:100])
    _png(gt / "crack" / "002_mask.png", _mask())
    _png(test / "crack" / "003.png", _image(seed=4))
    _png(gt / "crack" / "003_mask.png", _mask(20, 30))                   # another size
    _png(test / "crack" / "004.png", _image(seed=5))
    _png(gt / "crack" / "004_mask.png", np.zeros((40, 60), np.uint8))    # empty
    _png(test / "crack" / "005.png", _image(seed=6))
    (gt / "crack" / "005_mask.png").write_bytes(b"not a png")            # corrupt mask
    return root


def test_an_mvtec_folder_gives_the_usable_defects_and_reports_every_other_image(tmp_path):
    root = _mvtec(tmp_path / "bottle")
    got = load_defects(root)
    assert [p.name for p in got.paths] == ["000.png"] and got.paths[0].parent.name == "crack"
    assert got.images[0].dtype == np.uint8 and got.images[0].shape == (40, 60, 3)
    assert np.array_equal(got.images[0], _image(seed=1))
    assert set(np.unique(got.masks[0])) == {0, 1} and np.array_equal(got.masks[0], _mask(value=1))
    reasons = {(p.parent.name, p.name): why for p, why in got.skipped}
    assert len(reasons) == 6
    assert "good image" in reasons[("good", "000.png")]
    assert "no mask" in reasons[("crack", "001.png")]
    assert "truncated" in reasons[("crack", "002.png")] or "corrupt" in reasons[("crack", "002.png")]
    assert "30x20" in reasons[("crack", "003.png")] and "60x40" in reasons[("crack", "003.png")]
    assert "no defect pixel" in reasons[("crack", "004.png")]
    assert reasons[("crack", "005.png")].startswith("mask 005_mask.png")
    # one kind's folder works as well as the object's root
    one = load_defects(root / "test" / "crack")
    assert one.paths == got.paths and len(one.skipped) == 5


def test_a_plain_folder_with_masks_beside_the_images(tmp_path):
    _png(tmp_path / "a.png", _image(seed=1))
    _png(tmp_path / "a_mask.png", _mask(value=1))            # a 0/1 mask
    _png(tmp_path / "b.bmp", _image(seed=2)[:, :, 0])        # a gray image
    _png(tmp_path / "b_mask.png", _mask())
    _png(tmp_path / "c.png", _image(seed=3))
    _png(tmp_path / "d.png", _image(seed=4))
    _png(tmp_path / "masks" / "d.png", _mask())              # the Validate page's layout
    pairs, missing = find_defects(tmp_path)
    assert [(i.name, m.relative_to(tmp_path).as_posix()) for i, m in pairs] == [
        ("a.png", "a_mask.png"), ("b.bmp", "b_mask.png"), ("d.png", "masks/d.png")]
    assert [p.name for p, _ in missing] == ["c.png"]
    got = load_defects(tmp_path)
    assert len(got) == 3 and all(im.shape == (40, 60, 3) for im in got.images)
    assert all(np.array_equal(m, _mask(value=1)) for m in got.masks)
    with pytest.raises(ValueError, match="does not exist"):
        find_defects(tmp_path / "nowhere")


def test_defects_are_scaled_exactly_like_the_good_images(tmp_path):
    for name in ("a", "b"):
        _png(tmp_path / f"{name}.png", _image(seed=ord(name)))
        _png(tmp_path / f"{name}_mask.png", _mask())
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    tiles = load_defects(tmp_path, (32, 32), "tiles", scale=0.5)
    like = load_image_set(paths, (32, 32), "tiles", scale=0.5)
    assert tiles.scale == 0.5
    assert all(np.array_equal(a, b) for a, b in zip(tiles.images, like.images))
    assert all(m.shape == im.shape[:2] == (20, 30) for m, im in zip(tiles.masks, tiles.images))
    assert tiles.masks[0][5:7, 10:20].all() and tiles.masks[0].sum() == 20  # the 4x20 band, halved
    resized = load_defects(tmp_path, (64, 64), "resize")
    assert np.array_equal(np.stack(resized.images), load_image_set(paths, (64, 64)).images)
    assert resized.masks[0].shape == (64, 64) and resized.masks[0].any()


def test_crops_prefer_defect_pixels_and_small_images_are_padded():
    image, mask = _image(100, 120), np.zeros((100, 120), np.uint8)
    mask[80:83, 5:9] = 1
    rng = np.random.default_rng(0)
    crops = [defect_crop(image, mask, 32, rng, prefer=1.0) for _ in range(50)]
    assert all(c.shape == (32, 32, 3) and m.shape == (32, 32) and m.any() for c, m in crops)
    anywhere = [defect_crop(image, mask, 32, rng, prefer=0.0)[1].any() for _ in range(50)]
    assert not all(anywhere)
    small, small_mask = defect_crop(image[:20, :20], np.ones((20, 20), np.uint8), 32, rng)
    assert small.shape == (32, 32, 3) and small_mask.all()
    whole, whole_mask = defect_crop(image, mask, (100, 120), rng)  # resize mode: the image
    assert np.array_equal(whole, image) and np.array_equal(whole_mask, mask)


def test_defect_batches_are_tensors_for_the_stages_and_reproducible(tmp_path):
    _png(tmp_path / "a.png", _image(seed=1))
    _png(tmp_path / "a_mask.png", _mask())
    defects = load_defects(tmp_path)
    first = [next(defect_batches(defects, 32, 3, seed=7)) for _ in range(2)]
    images, masks = first[0]
    assert images.shape == (3, 3, 32, 32) and masks.shape == (3, 1, 32, 32)
    assert images.dtype == masks.dtype == torch.float32 and 0 <= float(images.min()) <= 1
    assert set(masks.unique().tolist()) <= {0.0, 1.0} and bool(masks.flatten(1).any(1).any())
    assert torch.equal(first[0][0], first[1][0]) and torch.equal(first[0][1], first[1][1])
    with pytest.raises(ValueError, match="no usable"):
        next(defect_batches(DefectSet(), 32, 3))


def test_the_feed_gives_the_share_of_each_batch_and_says_when_it_ran_out():
    batch = torch.zeros(4, 3, 8, 8)
    real = [(torch.ones(3, 3, 8, 8), torch.ones(3, 1, 8, 8))] * 4
    gen = torch.Generator().manual_seed(0)
    feed = DefectFeed(real, 0.5)
    taken = [feed.take(batch, gen) for _ in range(6)]  # 12 real samples, 2 a batch
    assert all(t[0].shape == (2, 3, 8, 8) and t[1].shape == (2, 1, 8, 8) for t in taken)
    with pytest.raises(DefectsRanOut):
        feed.take(batch, gen)
    # a share that is not whole in a batch is met on average
    feed = DefectFeed(iter(lambda: (torch.ones(1, 3, 8, 8), torch.ones(1, 1, 8, 8)), None), 0.25)
    counts = [0 if (t := feed.take(batch[:2], gen)) is None else len(t[0]) for _ in range(200)]
    assert set(counts) == {0, 1} and 0.35 < np.mean(counts) < 0.65  # 0.25 x 2 = 0.5
    # share 0 takes nothing and draws nothing from the generator
    state = gen.get_state()
    assert DefectFeed(real, 0.0).take(batch, gen) is None and torch.equal(state, gen.get_state())
    mixed = mix_in(batch, torch.ones(1, 3, 8, 8))
    assert mixed.shape == batch.shape and mixed[:3].eq(0).all() and mixed[3].eq(1).all()
    for bad in (-0.1, 1.5, float("nan"), True, "0.5"):
        with pytest.raises(ValueError, match="defect_share"):
            DefectFeed(real, bad)
    with pytest.raises(ValueError, match="defect batches must be"):
        DefectFeed([(torch.ones(2, 3, 16, 16), torch.ones(2, 1, 16, 16))], 1.0).take(batch, gen)


class _Scorer:
    """The least an evaluation needs: a model whose score is the image's mean brightness."""

    image_size = (32, 32)

    def __init__(self, meta: dict) -> None:
        self.meta = meta

    def preprocess(self, image: np.ndarray) -> np.ndarray:
        return cv2.resize(image, (32, 32))

    def predict_batch(self, images, batch_size=8):
        from types import SimpleNamespace
        return [SimpleNamespace(score=float(im.mean()) / 255.0,
                                anomaly_map=np.zeros((32, 32), np.float32)) for im in images]


def test_evaluation_leaves_out_and_reports_the_defects_a_model_was_trained_on(tmp_path):
    from core.evaluation.datasets import TRAINED_ON, file_digest, leave_out_trained, test_samples
    from core.evaluation.evaluate import evaluate
    from core.evaluation.validation import validate

    root = _mvtec(tmp_path / "bottle")
    used = load_defects(root)
    meta = {"training_data": {"defects": {"images": 1, "sha256": [file_digest(used.paths[0])]}}}
    samples = test_samples(root)
    kept, left = leave_out_trained(samples, meta)
    assert left == [(used.paths[0], TRAINED_ON)] and len(kept) == len(samples) - 1
    assert leave_out_trained(samples, {})[0] == samples  # a model without defects: all counted
    report = evaluate(_Scorer(meta), root)
    assert (used.paths[0], TRAINED_ON) in report.skipped
    assert str(used.paths[0]) not in {r["path"] for r in report.per_image}
    assert len(report.per_image) == len(evaluate(_Scorer({}), root).per_image) - 1
    good = [root / "test" / "good" / "000.png"] * 2
    defects = [s for s in samples if s.label == 1 and s.path.name in ("000.png", "001.png")]
    result = validate(_Scorer(meta), good, defects)
    assert (used.paths[0], TRAINED_ON) in result.skipped and len(result.defects) == 1


def test_a_training_run_gets_a_clear_error_or_a_record_of_what_it_used(tmp_path):
    from core.evaluation.datasets import file_digest
    from core.training.defect_samples import defects_meta, usable_defects

    root = _mvtec(tmp_path / "bottle")
    used = usable_defects(root, (64, 64))
    record = defects_meta(used, root, 0.25)
    assert record == {"source": str(root), "images": 1, "skipped": 6, "share": 0.25,
                      "sha256": [file_digest(root / "test" / "crack" / "000.png")]}
    (tmp_path / "empty").mkdir()
    _png(tmp_path / "empty" / "x.png", _image())
    with pytest.raises(ValueError, match=r"no usable annotated defect image .*1 skipped; e\.g\. x\.png: no mask"):
        usable_defects(tmp_path / "empty")


def test_a_model_without_a_defects_record_leaves_nothing_out():
    from core.evaluation.datasets import trained_defects

    # training_data is text in bundles older than the record, or a table without it
    for meta in (None, {}, {"training_data": "list"}, {"training_data": {"defects": "x"}},
                 {"training_data": {"defects": {"sha256": "abc"}}}):
        assert trained_defects(meta) == set()
    assert trained_defects({"training_data": {"defects": {"sha256": ["a", "b"]}}}) == {"a", "b"}
