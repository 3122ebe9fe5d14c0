"""Issue 13 item 16: a full disk gives one-line errors; read-only queries still work.

The full disk is simulated in-process: ``os.fsync`` (every durable write goes through it)
raises ENOSPC, and for the database, sqlite's "disk I/O error" on opening a WAL database
whose ``-shm`` cannot be written (what a real full disk does to a plain open).
"""

import errno
import os
import sqlite3

import cv2
import numpy as np
import pytest

from core.cli.main import main
from core.store import RecipeStore, ResultRecord, ResultsError, ResultsQuery, ResultsStore
from core.store import results_query
from tests.test_store_versions import make_bundle

T0 = 1_714_550_400.0


def full_disk(monkeypatch):
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", fsync)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line(code, err, *needles):
    assert code == 2 and "Traceback" not in err, err
    lines = [ln for ln in err.strip().splitlines() if "error" in ln.lower()]  # not progress
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert err.strip().splitlines()[-1] == lines[0], err
    assert "no space left on device" in lines[0], err
    for n in needles:
        assert str(n) in lines[0], err


def test_recipe_create_and_add_version_on_a_full_disk(tmp_path, capsys, monkeypatch):
    d = tmp_path / "data"
    bundle = make_bundle(tmp_path / "m.limodel")
    RecipeStore(d).create("bottle", source="sim")
    full_disk(monkeypatch)
    code, _, err = run(capsys, "recipe", "create", "cap", "--data-dir", d, "--ok-limit", "0.1",
                       "--ng-limit", "0.2", "--pixel-threshold", "0.3")
    assert_one_line(code, err, d / "recipes" / "cap")
    code, _, err = run(capsys, "recipe", "add-version", "bottle", bundle, "--data-dir", d)
    assert_one_line(code, err, d)
    monkeypatch.undo()
    assert RecipeStore(d).get("bottle").active_version is None  # nothing half-done


def test_predict_and_camera_grab_on_a_full_disk(tmp_path, capsys, monkeypatch):
    bundle = make_bundle(tmp_path / "m.limodel")
    cv2.imwrite(str(tmp_path / "a.png"), np.full((64, 64, 3), 90, np.uint8))
    full_disk(monkeypatch)
    code, _, err = run(capsys, "predict", bundle, tmp_path / "a.png", "--out", tmp_path / "out")
    assert_one_line(code, err, tmp_path / "out")
    code, _, err = run(capsys, "camera", "grab", "sim:fps=0,width=64,height=48", "-n", "2",
                       "--out", tmp_path / "grab")
    assert_one_line(code, err, tmp_path / "grab")


def test_eval_calibrate_on_a_full_disk(tmp_path, capsys, monkeypatch):
    from tests._gen import make_mvtec_tree

    root = make_mvtec_tree(tmp_path / "ds", n_train=1, n_good=2, n_bad=2)
    bundle = make_bundle(tmp_path / "m.limodel")
    before = bundle.read_bytes()
    full_disk(monkeypatch)
    code, _, err = run(capsys, "eval", bundle, root, "--calibrate")
    assert_one_line(code, err, bundle)
    assert bundle.read_bytes() == before  # the model is untouched


def test_other_os_errors_are_one_line_too(tmp_path, capsys, monkeypatch):
    def fsync(fd):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(os, "fsync", fsync)
    code, _, err = run(capsys, "recipe", "create", "cap", "--data-dir", tmp_path,
                       "--ok-limit", "0.1", "--ng-limit", "0.2", "--pixel-threshold", "0.3")
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert err.startswith("error: ") and "read-only file system" in err


def _db_with_rows(tmp_path, n=3):
    with ResultsStore(tmp_path) as store:
        for i in range(n):
            store.append(ResultRecord(time=T0 + i, recipe="bottle", model_version=1,
                                      ok_limit=0.3, ng_limit=0.6, pixel_threshold=0.5,
                                      score=0.1, verdict="OK", frame_id=i))
    return store.db_path


def test_results_queries_work_when_the_database_cannot_be_opened_for_writing(
        tmp_path, capsys, monkeypatch):
    db = _db_with_rows(tmp_path)
    real = sqlite3.connect

    def connect(target, *a, **kw):  # what a full disk does to an open of a WAL database
        if "immutable=1" not in str(target):
            raise sqlite3.OperationalError("disk I/O error")
        return real(target, *a, **kw)

    monkeypatch.setattr(results_query.sqlite3, "connect", connect)
    assert ResultsQuery(db).summary()[0].total == 3
    code, out, err = run(capsys, "results", "summary", "--data-dir", tmp_path)
    assert code == 0 and out.splitlines()[1].split()[:2] == ["bottle", "3"], err
    code, out, _ = run(capsys, "results", "last", "--data-dir", tmp_path)
    assert code == 0 and len(out.splitlines()) == 3


def test_queries_open_read_only_and_never_create_the_schema(tmp_path):
    db = tmp_path / "r.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE other (x)")  # a database, but not (yet) a results database
    conn.commit()
    conn.close()
    assert ResultsQuery(db).summary() == [] and ResultsQuery(db).last(5) == []
    conn = sqlite3.connect(db)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["other"]
    conn.close()


def test_a_zero_byte_database_is_an_empty_one(tmp_path, capsys):
    db = tmp_path / "results" / "results.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"")
    q = ResultsQuery(db)
    assert q.summary() == [] and q.last(3) == [] and list(q.iter_records()) == []
    assert q.score_distribution().total == 0
    assert q.export_csv(tmp_path / "out.csv") == 0
    code, out, err = run(capsys, "results", "summary", "--data-dir", tmp_path)
    assert code == 0 and "no results" in out, err
    code, out, err = run(capsys, "results", "last", "--data-dir", tmp_path)
    assert code == 0 and "no results" in out, err
    assert db.stat().st_size == 0  # a query writes nothing
    _db_with_rows(tmp_path, n=2)  # the writer initialises it
    assert q.summary()[0].total == 2


def test_a_garbage_database_is_a_one_line_error(tmp_path, capsys):
    db = tmp_path / "results" / "results.sqlite"
    db.parent.mkdir()
    db.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ResultsError, match="results.sqlite"):
        ResultsQuery(db).summary()
    code, _, err = run(capsys, "results", "summary", "--data-dir", tmp_path)
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
