"""Image archive: NG/REVIEW (and sampled OK) images with heat maps; retention never drops rows."""

import datetime as dt
import os

import cv2
import numpy as np
import pytest

from core.store import ImageArchive, ResultRecord, ResultsStore, StoreError

T0 = dt.datetime(2024, 5, 1, 14, 30, 5, 123000).timestamp()


def rec(verdict, t=T0, frame_id=3):
    score = {"OK": 0.1, "REVIEW": 0.4, "NG": 0.9}[verdict]
    return ResultRecord(time=t, recipe="bottle", model_version=2, ok_limit=0.3, ng_limit=0.6,
                        pixel_threshold=0.5, score=score, verdict=verdict, frame_id=frame_id)


def image(value=50):
    img = np.full((32, 48, 3), value, np.uint8)
    img[5:10, 5:10] = (0, 0, 255)
    return img


def test_ng_image_and_heatmap_are_archived_under_dated_folder(tmp_path):
    with ResultsStore(tmp_path) as store:
        heat = np.linspace(0, 1, 32 * 48, dtype=np.float32).reshape(32, 48)
        queued = store.record(rec("NG"), image(), heat)
        store.record(rec("REVIEW", frame_id=4), image(), None)
        store.record(rec("OK", frame_id=5), image(), heat)  # OK: not archived (fraction 0)
        store.flush()
        assert queued.image_path == "2024-05-01/bottle/143005-123_f3_NG.png"
        assert queued.heatmap_path == "2024-05-01/bottle/143005-123_f3_NG_heat.png"
        back = {r.frame_id: r for r in store.last(10)}
        assert back[3].image_path == queued.image_path
        assert back[4].image_path.endswith("_f4_REVIEW.png") and back[4].heatmap_path is None
        assert back[5].image_path is None
        np.testing.assert_array_equal(cv2.imread(str(store.image_file(queued.image_path))),
                                      image())
        heat_png = cv2.imread(str(store.image_file(queued.heatmap_path)))
        assert heat_png.shape == (32, 48, 3)
        assert not np.array_equal(heat_png[0, 0], heat_png[-1, -1])  # colour mapped


def test_ok_sampling_and_name_collisions(tmp_path):
    arch = ImageArchive(tmp_path, ok_sample_fraction=1.0)
    assert arch.should_archive("OK") and arch.should_archive("NG")
    a = arch.save(image(), None, time=T0, recipe="bottle", verdict="OK", frame_id=1)
    b = arch.save(image(9), None, time=T0, recipe="bottle", verdict="OK", frame_id=1)
    assert a.image != b.image and arch.resolve(a.image).is_file()
    half = ImageArchive(tmp_path, ok_sample_fraction=0.5, seed=1)
    kept = sum(half.should_archive("OK") for _ in range(1000))
    assert 400 < kept < 600
    with pytest.raises(StoreError, match="ok_sample_fraction"):
        ImageArchive(tmp_path, ok_sample_fraction=2.0)
    with pytest.raises(StoreError, match="unknown verdict"):
        arch.should_archive("MAYBE")


def _age(store, rel, days, now):
    t = now - days * 86400
    os.utime(store.image_file(rel), (t, t))


def test_retention_by_age_and_size_keeps_rows(tmp_path):
    now = T0 + 30 * 86400
    with ResultsStore(tmp_path) as store:
        saved = []
        for i in range(6):
            r = store.record(rec("NG", t=T0 + i, frame_id=i), image(i), image(i))
            _age(store, r.image_path, 20 - i, now)
            _age(store, r.heatmap_path, 20 - i, now)
            saved.append(r)
        report = store.apply_retention(max_age_days=16.5, now=now)  # frames 0..3 are older
        assert sorted(report.removed) == sorted(
            p for r in saved[:4] for p in (r.image_path, r.heatmap_path))
        newest = sum(store.image_file(p).stat().st_size
                     for p in (saved[5].image_path, saved[5].heatmap_path))
        report = store.apply_retention(max_total_mb=(newest + 1) / 2**20, now=now)
        assert sorted(report.removed) == sorted([saved[4].image_path, saved[4].heatmap_path])
        store.flush()
        rows = {r.frame_id: r for r in store.last(10)}
        assert len(rows) == 6  # database rows are never deleted
        assert [rows[i].archive_pruned for i in range(6)] == [True] * 5 + [False]
        assert rows[0].image_path == saved[0].image_path  # the path is kept, marked pruned
        assert store.image_file(saved[5].image_path).is_file()
        assert not store.image_file(saved[0].image_path).exists()


def test_prune_removes_empty_dated_folders(tmp_path):
    arch = ImageArchive(tmp_path)
    old = arch.save(image(), None, time=T0, recipe="bottle", verdict="NG")
    os.utime(arch.resolve(old.image), (T0, T0))
    arch.prune(max_age_days=1, now=T0 + 10 * 86400)
    assert list(tmp_path.iterdir()) == []
