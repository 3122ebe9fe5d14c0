"""`lineinspect recipe ...` and `lineinspect results ...` end to end (in-process)."""

import csv
import re

import pytest

from core.cli.main import main
from core.store import RecipeStore, ResultRecord, ResultsStore
from tests.test_store_versions import make_bundle

T0 = 1_714_550_400.0


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_recipe_lifecycle(tmp_path, capsys):
    d = str(tmp_path / "data")
    b1 = make_bundle(tmp_path / "1.limodel", ok=0.2, ng=0.4)
    b2 = make_bundle(tmp_path / "2.limodel", ok=0.5, ng=0.8)
    code, out, _ = run(capsys, "recipe", "create", "bottle", "--data-dir", d, "--source",
                       "genicam:42", "--setting", "ExposureTime=5000", "--setting",
                       "ReverseX=true", "--roi", "1,2,30,40", "--model", str(b1))
    assert code == 0 and "model v1" in out and "OK < 0.2" in out
    r = RecipeStore(d).get("bottle")
    assert r.camera.settings == {"ExposureTime": 5000, "ReverseX": True}
    assert (r.roi.w, r.active_version) == (30, 1)

    code, out, _ = run(capsys, "recipe", "add-version", "bottle", str(b2), "--data-dir", d,
                       "--trained-from", "line 3 week 12", "--activate")
    assert code == 0 and "activated v2" in out
    code, out, _ = run(capsys, "recipe", "versions", "bottle", "--data-dir", d)
    assert "line 3 week 12" in out and "auroc=0.99" in out
    assert [ln.split()[0] for ln in out.splitlines() if ln.strip().startswith("*")] == ["*"]
    code, out, _ = run(capsys, "recipe", "rollback", "bottle", "--data-dir", d)
    assert code == 0 and "from v2 to v1" in out
    code, out, _ = run(capsys, "recipe", "activate", "bottle", "2", "--keep-thresholds",
                       "--data-dir", d)
    assert code == 0 and "activated v2" in out and "OK < 0.2" in out
    code, out, _ = run(capsys, "recipe", "show", "bottle", "--data-dir", d)
    assert code == 0 and "active_version = 2" in out and 'source = "genicam:42"' in out


def test_recipe_errors_are_clear(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_DATA", str(tmp_path))
    code, _, err = run(capsys, "recipe", "show", "nope")
    assert code == 2 and "recipe 'nope'" in err and "Traceback" not in err
    junk = tmp_path / "junk.limodel"
    junk.write_bytes(b"garbage")
    code, _, err = run(capsys, "recipe", "create", "x", "--model", str(junk))
    assert code == 2 and "junk.limodel" in err
    code, _, err = run(capsys, "recipe", "create", "y", "--ok-limit", "0.2")
    assert code == 2 and "--ng-limit" in err and "--pixel-threshold" in err
    code, _, err = run(capsys, "recipe", "create", "z", "--setting", "novalue")
    assert code == 2 and "KEY=VALUE" in err
    run(capsys, "recipe", "create", "ok", "--ok-limit", "0.1", "--ng-limit", "0.2",
        "--pixel-threshold", "0.3")
    code, _, err = run(capsys, "recipe", "rollback", "ok")
    assert code == 2 and "no earlier model version" in err
    (tmp_path / "recipes" / "ok" / "recipe.toml").write_text("[camera]\nexposur = 1\n")
    code, out, _ = run(capsys, "recipe", "list")
    assert code == 1 and "BROKEN" in out and "camera.exposur" in out


def test_results_summary_last_and_export(tmp_path, capsys):
    with ResultsStore(tmp_path) as store:
        for i, (s, v) in enumerate([(0.1, "OK"), (0.2, "OK"), (0.5, "REVIEW"), (0.9, "NG")]):
            store.append(ResultRecord(time=T0 + 3600 * i, recipe="bottle", model_version=1,
                                      ok_limit=0.3, ng_limit=0.6, pixel_threshold=0.5,
                                      score=s, verdict=v, frame_id=i))
        store.append(ResultRecord(time=T0, recipe="cap", model_version=None, ok_limit=0.3,
                                  ng_limit=0.6, pixel_threshold=None, score=0.1, verdict="OK"))
    d = str(tmp_path)
    code, out, _ = run(capsys, "results", "summary", "--data-dir", d)
    lines = out.splitlines()
    assert code == 0 and lines[1].split()[:6] == ["bottle", "4", "2", "1", "1", "50.0%"]
    assert lines[-1].split()[:6] == ["(all)", "5", "3", "1", "1", "60.0%"]
    code, out, _ = run(capsys, "results", "summary", "--recipe", "bottle", "--since",
                       "2024-05-01T09:00:00+00:00", "--data-dir", d)
    assert out.splitlines()[1].split()[:5] == ["bottle", "3", "1", "1", "1"]
    code, out, _ = run(capsys, "results", "last", "-n", "2", "--data-dir", d)
    assert code == 0 and len(out.splitlines()) == 2 and "NG" in out.splitlines()[0]
    csv_path = tmp_path / "out.csv"
    code, out, _ = run(capsys, "results", "export", "--out", str(csv_path), "--recipe",
                       "bottle", "--until", "2024-05-01T10:00:00+00:00", "--data-dir", d)
    assert code == 0 and "wrote 2 result(s)" in out
    assert [r["score"] for r in csv.DictReader(csv_path.open())] == ["0.1", "0.2"]
    code, _, err = run(capsys, "results", "summary", "--since", "last tuesday", "--data-dir", d)
    assert code == 2 and "--since" in err and "24h" in err
    code, _, err = run(capsys, "results", "export", "--out", str(csv_path), "--data-dir",
                       str(tmp_path / "empty"))
    assert code == 2 and "no results database" in err
    code, out, _ = run(capsys, "results", "summary", "--data-dir", str(tmp_path / "empty"))
    assert code == 0 and "no results recorded yet" in out


def test_results_prune(tmp_path, capsys):
    code, _, err = run(capsys, "results", "prune", "--data-dir", str(tmp_path))
    assert code == 2 and "--max-age-days" in err
    code, out, _ = run(capsys, "results", "prune", "--max-age-days", "30", "--data-dir",
                       str(tmp_path))
    assert code == 0 and "removed 0 archived file(s)" in out


@pytest.mark.parametrize("text, expected", [("24h", 1000.0 - 86400), ("30m", 1000.0 - 1800),
                                            ("now", 1000.0), ("1970-01-01T00:00:10+00:00", 10.0)])
def test_parse_time(text, expected):
    from core.cli.timespec import parse_time

    assert parse_time(text, now=1000.0) == pytest.approx(expected)


def test_recipe_versions_lists_the_good_versions_beside_a_corrupt_one(tmp_path, capsys):
    d = str(tmp_path / "data")
    assert run(capsys, "recipe", "create", "bottle", "--data-dir", d, "--model",
               str(make_bundle(tmp_path / "1.limodel")))[0] == 0
    for i in (2, 3):
        assert run(capsys, "recipe", "add-version", "bottle", str(make_bundle(tmp_path / f"{i}.limodel")),
                   "--data-dir", d, "--trained-from", f"batch {i}")[0] == 0
    info = RecipeStore(d).registry("bottle").version_dir(2) / "version.json"
    info.write_text("{not json")
    code, out, err = run(capsys, "recipe", "versions", "bottle", "--data-dir", d)
    assert code == 2  # something is wrong, and said (the status of every CLI error)
    listed = [int(m.group(1)) for ln in out.splitlines() if (m := re.match(r"[ *x] +(\d+) ", ln))]
    assert listed == [1, 3] and "batch 3" in out  # the versions after the bad one are not lost
    assert err.count("\n") == 1 and "version.json is corrupt" in err and "v0002" in err
