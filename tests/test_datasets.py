"""Dataset folders: MVTec AD layout, masks, plain folders, and the shared magnetic-tile set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.evaluation.datasets import (
    Sample,
    is_mvtec_layout,
    read_mask,
    test_samples as collect_test_samples,  # aliased so pytest does not collect it
    train_good_images,
)
from core.io.images import ImageReadError, write_image_atomic

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _img(path: Path, value: int = 100, shape=(8, 12)) -> Path:
    write_image_atomic(path, np.full(shape, value, np.uint8))
    return path


def _mvtec(root: Path, with_ground_truth: bool = True) -> Path:
    for i in range(3):
        _img(root / "train" / "good" / f"{i:03d}.png")
    _img(root / "test" / "good" / "000.png")
    _img(root / "test" / "good" / "001.png")
    _img(root / "test" / "scratch" / "000.png")
    _img(root / "test" / "scratch" / "001.png")
    _img(root / "test" / "crack" / "000.jpg")
    (root / "test" / "crack" / "readme.txt").write_text("not an image")
    if with_ground_truth:
        mask = np.zeros((8, 12), np.uint8)
        mask[2:5, 3:9] = 255
        write_image_atomic(root / "ground_truth" / "scratch" / "000_mask.png", mask)
        write_image_atomic(root / "ground_truth" / "crack" / "000.png", mask)  # plain-stem naming
        # scratch/001 has no mask
    return root


def test_mvtec_train_and_test(tmp_path: Path) -> None:
    root = _mvtec(tmp_path / "ds")
    assert is_mvtec_layout(root)
    assert [p.name for p in train_good_images(root)] == ["000.png", "001.png", "002.png"]
    samples = collect_test_samples(root)
    summary = [
        (s.defect_type, s.path.name, s.label, s.mask_path and s.mask_path.name) for s in samples
    ]
    assert summary == [
        ("crack", "000.jpg", 1, "000.png"),
        ("good", "000.png", 0, None),
        ("good", "001.png", 0, None),
        ("scratch", "000.png", 1, "000_mask.png"),
        ("scratch", "001.png", 1, None),
    ]


def test_mvtec_without_ground_truth(tmp_path: Path) -> None:
    samples = collect_test_samples(_mvtec(tmp_path / "ds", with_ground_truth=False))
    assert len(samples) == 5 and all(s.mask_path is None for s in samples)
    assert sum(s.label for s in samples) == 3


def test_read_mask(tmp_path: Path) -> None:
    root = _mvtec(tmp_path / "ds")
    by_name = {(s.defect_type, s.path.name): s for s in collect_test_samples(root)}
    mask = read_mask(by_name[("scratch", "000.png")], (8, 12))
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert mask.sum() == 3 * 6 and mask[2:5, 3:9].all()
    big = read_mask(by_name[("scratch", "000.png")], (16, 24))  # nearest: exactly doubled
    np.testing.assert_array_equal(big, np.kron(mask, np.ones((2, 2), np.uint8)))
    good = read_mask(by_name[("good", "000.png")], (5, 7))
    assert good.shape == (5, 7) and good.dtype == np.uint8 and not good.any()
    assert read_mask(by_name[("scratch", "001.png")], (8, 12)) is None


def test_read_mask_zero_one_and_colour_masks(tmp_path: Path) -> None:
    zero_one = np.zeros((6, 6), np.uint8)
    zero_one[1:3, 1:3] = 1
    write_image_atomic(tmp_path / "a.png", zero_one)
    colour = np.zeros((6, 6, 3), np.uint8)
    colour[4, 4] = (0, 0, 255)  # red marking in BGR
    write_image_atomic(tmp_path / "b.png", colour)
    a = read_mask(Sample(tmp_path / "x.png", 1, "d", tmp_path / "a.png"), (6, 6))
    b = read_mask(Sample(tmp_path / "y.png", 1, "d", tmp_path / "b.png"), (6, 6))
    np.testing.assert_array_equal(a, zero_one)
    assert b.sum() == 1 and b[4, 4] == 1
    (tmp_path / "c.png").write_bytes(b"junk")
    with pytest.raises(ImageReadError, match=r"c\.png"):
        read_mask(Sample(tmp_path / "z.png", 1, "d", tmp_path / "c.png"), (6, 6))


def test_plain_folder(tmp_path: Path) -> None:
    _img(tmp_path / "b.png")
    _img(tmp_path / "a.bmp")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "misc").mkdir()  # a sub-folder alone does not make it MVTec
    assert not is_mvtec_layout(tmp_path)
    assert [p.name for p in train_good_images(tmp_path)] == ["a.bmp", "b.png"]
    samples = collect_test_samples(tmp_path)
    assert [(s.path.name, s.label, s.defect_type, s.mask_path) for s in samples] == [
        ("a.bmp", 0, "good", None),
        ("b.png", 0, "good", None),
    ]


def test_empty_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope.*does not exist"):
        train_good_images(tmp_path / "nope")
    with pytest.raises(ValueError, match=r"nope.*does not exist"):
        collect_test_samples(tmp_path / "nope")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no training images.*empty"):
        train_good_images(empty)
    with pytest.raises(ValueError, match=r"no test images.*empty"):
        collect_test_samples(empty)
    (tmp_path / "m" / "train" / "good").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no training images.*good"):
        train_good_images(tmp_path / "m")
    with pytest.raises(ValueError, match=r"no test folder"):
        collect_test_samples(tmp_path / "m")
    (tmp_path / "m" / "test" / "good").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"no test images.*test"):
        collect_test_samples(tmp_path / "m")


def test_test_only_layout_and_loose_test_images(tmp_path: Path) -> None:
    _img(tmp_path / "test" / "good" / "a.png")
    assert is_mvtec_layout(tmp_path)
    with pytest.raises(ValueError, match=r"no training folder"):
        train_good_images(tmp_path)
    _img(tmp_path / "test" / "loose.png")
    with pytest.raises(ValueError, match=r"loose\.png.*test/good"):
        collect_test_samples(tmp_path)


@pytest.mark.skipif(
    not (SHARED / "magnetic_tile").is_dir(), reason=f"{SHARED}/magnetic_tile not present"
)
def test_magnetic_tile_smoke() -> None:
    root = SHARED / "magnetic_tile"
    assert is_mvtec_layout(root)
    assert len(train_good_images(root)) == 761
    samples = collect_test_samples(root)
    good = [s for s in samples if s.label == 0]
    bad = [s for s in samples if s.label == 1]
    assert len(good) == 191 and len(bad) == 388
    assert all(s.mask_path is not None for s in bad)
    assert {s.defect_type for s in bad} == {"blowhole", "break", "crack", "fray", "uneven"}
    mask = read_mask(bad[0], (64, 64))
    assert mask.shape == (64, 64) and mask.any() and set(np.unique(mask)) <= {0, 1}
