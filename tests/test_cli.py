import csv
import json

import cv2
import numpy as np
import pytest

from core.cli.main import main
from tests._gen import make_mvtec_tree


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    root = make_mvtec_tree(tmp / "ds", n_train=8, n_good=2, n_bad=2)
    (root / "train/good/broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    model = tmp / "m.limodel"
    assert main(["train", str(root), "--preset", "tiny", "--steps", "4", "--workers", "0",
                 "--out", str(model)]) == 0
    return root, model


def test_train_writes_bundle_and_reports_skipped(trained, capsys):
    from core.inference.bundle import read_bundle_meta
    root, model = trained
    meta = read_bundle_meta(model)
    assert meta["preset"] == "tiny" and meta["training"]["steps"] == 4
    t = meta["thresholds"]
    assert 0 <= t["ok_limit"] <= t["ng_limit"] <= 1
    assert meta["training_data"]["skipped"] == 1
    assert not model.with_name(model.name + ".ckpt").exists()  # removed after success


def test_eval_prints_and_writes_metrics(trained, tmp_path, capsys):
    root, model = trained
    out = tmp_path / "m.json"
    assert main(["eval", str(model), str(root), "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    m = data["metrics"]
    for key in ("image_auroc", "image_ap", "pixel_auroc", "pixel_ap", "aupro"):
        assert 0.0 <= m[key] <= 1.0
    assert m["images"] == 4 and m["defective"] == 2 and len(data["per_image"]) == 4
    assert "image_auroc" in capsys.readouterr().out


def test_predict_writes_overlays_and_csv(trained, tmp_path):
    root, model = trained
    gray16 = (np.random.default_rng(0).random((50, 70)) * 65535).astype(np.uint16)
    mixed = tmp_path / "in"
    mixed.mkdir()
    cv2.imwrite(str(mixed / "a_gray16.png"), gray16)
    cv2.imwrite(str(mixed / "b_color.png"), cv2.imread(str(root / "test/spot/000.png")))
    (mixed / "c_corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 nonsense")
    out = tmp_path / "out"
    assert main(["predict", str(model), str(mixed), "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "scores.csv").open()))
    assert [r["image"].split("/")[-1] for r in rows] == ["a_gray16.png", "b_color.png"]
    assert all(r["verdict"] in ("OK", "REVIEW", "NG") and 0 <= float(r["score"]) <= 1 for r in rows)
    overlay = cv2.imread(str(out / rows[0]["overlay"]))
    assert overlay.shape == (50, 70, 3)  # at the input's resolution


@pytest.mark.parametrize("argv, message", [
    (["train", "/nonexistent/folder", "--out", "x.limodel"], "not found"),
    (["eval", "/nonexistent.limodel", "/tmp"], "not found"),
    (["train", "{empty}", "--out", "{empty}/m.limodel"], "no"),
    (["train", "{empty}", "--preset", "huge", "--out", "m.limodel"], "unknown preset"),
])
def test_bad_input_gets_clear_error(argv, message, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    argv = [a.format(empty=empty) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and message in err


@pytest.mark.parametrize("flag, value, message", [
    ("--minutes", "0", "--minutes must be positive"), ("--minutes", "nan", "--minutes must be positive"),
    ("--steps", "0", "--steps must be at least 1"), ("--batch-size", "0", "--batch-size"),
    ("--seed", "-1", "--seed"), ("--holdout", "1", "--holdout"), ("--false-reject", "0.7", "--false-reject"),
    ("--continue-from", "/nonexistent.limodel", "--continue-from: model not found"),
])
def test_train_numbers_are_validated(flag, value, message, trained, tmp_path, capsys):
    root, _ = trained
    assert main(["train", str(root), "--preset", "tiny", flag, value, "--out", str(tmp_path / "m")]) == 2
    assert message in capsys.readouterr().err


def test_continue_training_starts_from_the_given_model(trained, tmp_path, capsys):
    from core.inference.bundle import read_bundle_meta

    root, model = trained
    out = tmp_path / "more.limodel"
    assert main(["train", str(root), "--preset", "tiny", "--steps", "2", "--workers", "0",
                 "--anomalies", "defects", "--continue-from", str(model), "--out", str(out)]) == 0
    assert read_bundle_meta(model)["anomalies"] == "paper"      # tiny's own
    assert read_bundle_meta(out)["anomalies"] == "defects"      # --anomalies overrides it
    started = read_bundle_meta(out)["training"]["started_from"]
    assert started["from"] == str(model) and started["steps"] == 4
    printed = capsys.readouterr().out
    assert "separat" in printed or "same score" in printed  # the verdict on the model is printed


def test_all_corrupt_training_images(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    for i in range(3):
        (folder / f"{i}.png").write_bytes(b"not an image")
    assert main(["train", str(folder), "--preset", "tiny", "--out", str(tmp_path / "m.limodel")]) == 2
    assert "could be read" in capsys.readouterr().err
    assert not (tmp_path / "m.limodel").exists()


def test_eval_calibrate_writes_f1_thresholds(trained, tmp_path):
    import shutil
    from core.inference.bundle import read_bundle_meta
    root, model = trained
    copy = tmp_path / "c.limodel"
    shutil.copy(model, copy)
    assert main(["eval", str(copy), str(root), "--calibrate"]) == 0
    t = read_bundle_meta(copy)["thresholds"]
    assert t["ok_limit"] <= t["ng_limit"] and 0 < t["pixel"] < 1
    assert read_bundle_meta(copy)["recon_width"] == 8
