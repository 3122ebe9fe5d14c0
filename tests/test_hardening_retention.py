"""Issue 13 item 15: archive retention runs by itself and deletes only what it should.

Non-positive limits are refused, only files the archive wrote are deleted, links are never
followed; limits per station (station.toml / environment) with safe defaults.
"""

import datetime as dt
import math
import os

import numpy as np
import pytest

from core.cli.main import main
from core.store import ImageArchive, ResultRecord, ResultsStore, StoreError
from core.store.retention import RetentionPolicy, load_policy

T0 = dt.datetime(2024, 5, 1, 14, 30, 5, 123000).timestamp()
NOW = T0 + 100 * 86400


def rec(i, t=T0):
    return ResultRecord(time=t + i, recipe="bottle", model_version=1, ok_limit=0.3,
                        ng_limit=0.6, pixel_threshold=0.5, score=0.9, verdict="NG", frame_id=i)


def img():
    return np.full((8, 8, 3), 77, np.uint8)


def old(path, days=50):
    t = NOW - days * 86400
    os.utime(path, (t, t), follow_symlinks=False)


def saved_archive(root, n=3):
    arch = ImageArchive(root)
    files = []
    for i in range(n):
        p = arch.resolve(arch.save(img(), img(), time=T0 + i, recipe="bottle", verdict="NG",
                                   frame_id=i).image)
        old(p)
        old(p.with_name(p.stem + "_heat.png"))
        files.append(p)
    return arch, files


@pytest.mark.parametrize("kw", [{"max_age_days": 0}, {"max_age_days": -1},
                                {"max_age_days": math.nan}, {"max_age_days": math.inf},
                                {"max_total_bytes": 0}, {"max_total_bytes": -5}])
def test_prune_refuses_limits_that_would_wipe_the_archive(tmp_path, kw):
    arch, files = saved_archive(tmp_path)
    with pytest.raises(StoreError, match="max_age_days|max_total_bytes"):
        arch.prune(now=NOW, **kw)
    assert all(f.is_file() for f in files)


@pytest.mark.parametrize("argv, name", [(["--max-age-days", "0"], "--max-age-days"),
                                        (["--max-age-days", "-1"], "--max-age-days"),
                                        (["--max-age-days", "nan"], "--max-age-days"),
                                        (["--max-size-mb", "0"], "--max-size-mb"),
                                        (["--max-size-mb", "inf"], "--max-size-mb")])
def test_cli_prune_refuses_non_positive_limits(tmp_path, capsys, argv, name):
    _, files = saved_archive(tmp_path / "archive")
    code = main(["results", "prune", "--data-dir", str(tmp_path), *argv])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and name in err and "Traceback" not in err
    assert all(f.is_file() for f in files)


def test_prune_deletes_only_files_the_archive_wrote(tmp_path):
    arch, files = saved_archive(tmp_path)
    strangers = [tmp_path / "notes.txt", tmp_path / "2024-05-01" / "bottle" / "photo.png",
                 tmp_path / "2024-05-01" / "manual.pdf", tmp_path / "x" / "143005-123_NG.png"]
    for s in strangers:
        s.parent.mkdir(parents=True, exist_ok=True)
        s.write_bytes(b"someone else's")
        old(s, days=400)
    report = arch.prune(max_age_days=10, now=NOW)
    assert len(report.removed) == 6 and not any(f.exists() for f in files)
    assert all(s.is_file() for s in strangers)
    assert arch.prune(max_total_bytes=1, now=NOW).removed == []  # strangers are not counted


def test_prune_never_follows_links(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    _, foreign = saved_archive(elsewhere)  # archive-like names, but not this archive's
    root = tmp_path / "archive"
    arch, own = saved_archive(root, n=1)
    (root / "2024-05-02").mkdir()
    (root / "2024-05-02" / "bottle").symlink_to(foreign[0].parent, target_is_directory=True)
    link = root / "2024-05-01" / "bottle" / "143007-123_f9_NG.png"
    link.symlink_to(foreign[1])
    old(link)
    report = arch.prune(max_age_days=10, now=NOW)
    assert sorted(report.removed) == ["2024-05-01/bottle/143005-123_f0_NG.png",
                                      "2024-05-01/bottle/143005-123_f0_NG_heat.png"]
    assert all(f.is_file() for f in foreign) and link.is_symlink()
    linked_root = ImageArchive(tmp_path / "via-link")
    (tmp_path / "via-link").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(StoreError, match="symbolic link"):
        linked_root.prune(max_age_days=10, now=NOW)
    assert all(f.is_file() for f in foreign)


def test_retention_runs_by_itself_every_n_archived_images(tmp_path):
    policy = RetentionPolicy(max_age_days=10, prune_every=3)
    with ResultsStore(tmp_path, retention=policy, max_delay_s=0.0) as store:
        first = store.record(rec(0, t=NOW - 50 * 86400), img(), img())  # 1st: prunes (nothing old)
        assert store.wait_retention(10)
        old(store.image_file(first.image_path))
        old(store.image_file(first.heatmap_path))
        store.record(rec(1, t=NOW), img(), None)  # 2nd, 3rd: no pruning yet
        store.record(rec(2, t=NOW), img(), None)
        assert store.image_file(first.image_path).is_file()
        store.record(rec(3, t=NOW), img(), None)  # 4th = 1 + 3: retention runs
        assert store.wait_retention(10)
        assert not store.image_file(first.image_path).exists()
        store.flush()
        pruned = {r.frame_id: r.archive_pruned for r in store.iter_records()}
    assert pruned == {0: True, 1: False, 2: False, 3: False}


def test_no_image_archived_when_the_disk_is_nearly_full(tmp_path, monkeypatch):
    with ResultsStore(tmp_path, retention=RetentionPolicy(min_free_mb=100)) as store:
        monkeypatch.setattr(store.archive, "free_bytes", lambda: 99 * 2**20)
        r = store.record(rec(0), img(), img())
        assert r.image_path is None and store.archive_skipped == 1
        assert "free" in store.archive_alarm
        monkeypatch.setattr(store.archive, "free_bytes", lambda: 101 * 2**20)
        assert store.record(rec(1), img(), None).image_path is not None
        assert store.archive_alarm == ""


def test_station_policy_defaults_file_and_environment(tmp_path):
    p = load_policy(tmp_path, env={})
    assert (p.max_age_days, p.max_size_mb, p.min_free_mb, p.prune_every) == (30, 20480, 2048, 200)
    (tmp_path / "station.toml").write_text("[archive]\nmax_age_days = 7\nmax_size_mb = 500\n")
    p = load_policy(tmp_path, env={"LINEINSPECTOR_ARCHIVE_MAX_SIZE_MB": "800"})
    assert (p.max_age_days, p.max_size_mb) == (7, 800)
    for text, field in [("max_age_days = 0", "archive.max_age_days"),
                        ("max_size_mb = -3", "archive.max_size_mb"),
                        ("max_size_mb = nan", "archive.max_size_mb"),
                        ("prune_every = 2.5", "archive.prune_every"),
                        ("max_age = 3", "archive.max_age")]:
        (tmp_path / "station.toml").write_text(f"[archive]\n{text}\n")
        with pytest.raises(StoreError, match=field.replace(".", r"\.")):
            load_policy(tmp_path, env={})
    (tmp_path / "station.toml").unlink()
    with pytest.raises(StoreError, match="LINEINSPECTOR_ARCHIVE_MAX_AGE_DAYS"):
        load_policy(tmp_path, env={"LINEINSPECTOR_ARCHIVE_MAX_AGE_DAYS": "-1"})


def test_retention_still_runs_while_the_disk_is_nearly_full(tmp_path, monkeypatch):
    """Archiving stops below min_free_mb; age pruning must go on (by frame count), or the
    archive would stay stopped for good once the disk is nearly full."""
    policy = RetentionPolicy(max_age_days=10, prune_every=2, min_free_mb=100)
    with ResultsStore(tmp_path, retention=policy, max_delay_s=0.0) as store:
        first = store.record(rec(0, t=NOW), img(), None)  # 1st: retention runs, then saved
        assert store.wait_retention(10)
        old(store.image_file(first.image_path))
        monkeypatch.setattr(store.archive, "free_bytes", lambda: 99 * 2**20)
        assert store.record(rec(1, t=NOW), img(), None).image_path is None  # 2nd: skipped
        assert store.image_file(first.image_path).is_file()
        assert store.record(rec(2, t=NOW), img(), None).image_path is None  # 3rd: prunes
        assert store.wait_retention(10)
        assert not store.image_file(first.image_path).exists()
        store.flush()
        assert {r.frame_id: r.archive_pruned for r in store.iter_records()}[0] is True


def test_automatic_retention_does_not_hold_up_recording(tmp_path, monkeypatch):
    """A prune walks the whole archive (seconds on a full one): it must not run in the
    recording thread, or the recorder's bounded queue overflows and results are lost."""
    import threading

    entered, release, finished = threading.Event(), threading.Event(), threading.Event()
    with ResultsStore(tmp_path, retention=RetentionPolicy(prune_every=1),
                      max_delay_s=0.0) as store:
        real = store.archive.prune

        def slow_prune(**kw):
            entered.set()
            release.wait(10)
            try:
                return real(**kw)
            finally:
                finished.set()

        monkeypatch.setattr(store.archive, "prune", slow_prune)
        r = store.record(rec(0, t=NOW), img(), None)  # due: retention starts
        assert r.image_path is not None and not finished.is_set()
        assert store.record(rec(1, t=NOW), img(), None).image_path is not None  # one at a time
        release.set()
        assert store.wait_retention(10) and finished.is_set()
