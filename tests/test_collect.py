"""Sample collection helpers: near-duplicates, blur flags, the sample folder."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.training.collect import DuplicateFilter, SampleFolder, blur_score, review


def _part(seed: int, size: int = 96) -> np.ndarray:
    """A textured 'part' that differs clearly from one seed to another."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 255, (size // 8, size // 8, 3), np.uint8)
    return cv2.resize(img, (size, size), interpolation=cv2.INTER_NEAREST)


def test_duplicate_filter_skips_near_copies_but_keeps_distinct_parts():
    f = DuplicateFilter()
    a = _part(1)
    assert f.accept(a)
    noisy = np.clip(a.astype(int) + np.random.default_rng(0).integers(-2, 3, a.shape), 0, 255).astype(np.uint8)
    assert not f.accept(noisy)          # sensor noise only: a duplicate
    assert not f.accept(np.clip(a.astype(int) + 20, 0, 255).astype(np.uint8))  # brighter, same part
    assert f.accept(_part(2))
    assert len(f) == 2


def test_blur_score_ranks_blurred_image_lower():
    sharp = _part(3)
    assert blur_score(cv2.GaussianBlur(sharp, (9, 9), 3)) < 0.2 * blur_score(sharp)


def test_review_flags_blurred_duplicate_and_unreadable(tmp_path: Path):
    paths = []
    for i in range(6):
        p = tmp_path / f"s{i}.png"
        cv2.imwrite(str(p), _part(10 + i))
        paths.append(p)
    cv2.imwrite(str(tmp_path / "blur.png"), cv2.GaussianBlur(_part(20), (15, 15), 5))
    cv2.imwrite(str(tmp_path / "dup.png"), _part(10))
    (tmp_path / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    paths += [tmp_path / "blur.png", tmp_path / "dup.png", tmp_path / "bad.png"]
    flags = review(paths)
    assert set(flags.flagged()) == {tmp_path / "blur.png", tmp_path / "dup.png", tmp_path / "bad.png"}
    assert "near-duplicate of s0.png" in flags.problems[tmp_path / "dup.png"]
    assert flags.problems[tmp_path / "blur.png"][0].startswith("blurred")
    assert flags.unreadable[0][0] == tmp_path / "bad.png"


def test_sample_folder_add_import_remove(tmp_path: Path):
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        cv2.imwrite(str(src / f"g{i}.png"), _part(i))
    cv2.imwrite(str(src / "z-copy.png"), _part(0))  # sorted after g0.png: the copy is skipped
    (src / "broken.jpg").write_bytes(b"not a jpeg")
    folder = SampleFolder(tmp_path / "samples")
    first = folder.add(_part(99))
    assert first.name == "sample-00001.png"
    dedupe = DuplicateFilter()
    added, skipped = folder.import_folder(src, dedupe)
    assert len(added) == 3 and len(folder) == 4
    reasons = {p.name: why for p, why in skipped}
    assert set(reasons) == {"z-copy.png", "broken.jpg"}
    assert "near-duplicate" in reasons["z-copy.png"] and "broken.jpg" in reasons["broken.jpg"]
    removed_dir = folder.remove([first])
    assert (removed_dir / first.name).is_file() and len(folder) == 3   # moved, not deleted
    # numbering continues after the removed sample, even in a new SampleFolder
    assert SampleFolder(tmp_path / "samples").add(_part(5)).name == "sample-00005.png"
    with pytest.raises(ValueError, match="not a sample"):
        folder.remove([src / "g0.png"])
    with pytest.raises(FileNotFoundError, match="does not exist"):
        folder.import_folder(tmp_path / "nope")
