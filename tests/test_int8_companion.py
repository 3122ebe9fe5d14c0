"""The int8 companion of a bundle: built only when it agrees with fp32, used by the live
session on a CPU, copied with the model version, never used for other weights."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from core.cli.main import main
from core.inference.backends.export import file_sha256
from core.inference.int8_companion import (build_companion, companion_paths, read_report,
                                           verified_companion)
from core.inference.load import load_model
from core.inspection.session import LiveSession, _default_inferencer
from core.recipe import Recipe, Thresholds
from core.store.versions import VersionRegistry
from core.training.job import build_int8_companion
from tests.inspection_fakes import make_tiny_bundle

pytest.importorskip("onnxruntime")


def _verified(bundle):
    return verified_companion(bundle, lambda: file_sha256(bundle))


def _images(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        img = rng.integers(0, 256, (80, 96, 3), dtype=np.uint8)
        img[: 8 + 4 * i] = 30 + 10 * i
        out.append(img)
    return out


@pytest.fixture()
def bundle(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "1")
    monkeypatch.setenv("LINEINSPECTOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("LINEINSPECTOR_PRECISION", raising=False)
    return make_tiny_bundle(tmp_path / "m.limodel", lively=True)


def test_accepted_companion_is_what_the_live_session_loads(bundle, monkeypatch):
    report = build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=1.0)
    onnx_path, report_path = companion_paths(bundle)
    assert onnx_path.name == "m.int8.onnx" and report_path.name == "m.int8.json"
    assert report["accepted"] and onnx_path.is_file() and read_report(bundle) == report
    assert report["check_images"] == 6 and report["calibration_images"] == 8
    assert 0.0 <= report["mean_abs_score_delta"] <= report["max_abs_score_delta"] <= 1.0

    inf = _default_inferencer(bundle, "cpu")
    assert inf.backend_name == "onnxruntime-int8" and inf.concurrent
    assert inf.selection["reason"].startswith("verified int8")
    score = inf.predict(_images(1, 5)[0]).score
    assert 0.0 <= score <= 1.0
    cli = load_model(bundle, "auto", "cpu")  # precision="fp32", the default (predict, eval)
    assert cli.backend_name != "onnxruntime-int8" and cli.selection["reason"] == "measured"
    with pytest.raises(ValueError, match="unknown precision 'int4'"):
        load_model(bundle, precision="int4")

    monkeypatch.setenv("LINEINSPECTOR_PRECISION", "fp32")  # the operator's way out
    assert _default_inferencer(bundle, "cpu").backend_name != "onnxruntime-int8"


def test_companion_that_disagrees_is_not_kept(bundle):
    build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=1.0)
    report = build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=0.0)
    onnx_path, _ = companion_paths(bundle)
    if report["max_abs_score_delta"] == 0.0:
        pytest.skip("int8 happened to reproduce fp32 exactly on these images")
    assert not report["accepted"] and "not used" in report["reason"]
    assert not onnx_path.exists()  # the earlier, accepted one is gone too
    assert _verified(bundle) is None


def test_companion_must_keep_the_auroc_on_synthetic_defects(bundle):
    from core.evaluation.metrics import roc_auc
    from core.training.data import make_simulator
    from core.training.separability import synthetic_anomalies

    good = _images(6, 2)
    bad = synthetic_anomalies(good, make_simulator(None, grayscale=False, anomalies="defects"))
    assert len(bad) == len(good) and all(b.dtype == np.uint8 and b.shape == g.shape for b, g in zip(bad, good))
    assert any((b != g).any() for b, g in zip(bad, good))
    report = build_companion(bundle, _images(8, 1), good, anomalous=bad, auroc=roc_auc, tolerance=1.0,
                             auroc_tolerance=1.0)
    assert report["accepted"] and report["anomalous_images"] == len(bad)
    assert 0.0 <= report["auroc_int8"] <= 1.0 and 0.0 <= report["auroc_fp32"] <= 1.0
    assert "image AUROC" in report["reason"]
    lost = report["auroc_fp32"] - report["auroc_int8"]
    report = build_companion(bundle, _images(8, 1), good, anomalous=bad, auroc=roc_auc, tolerance=1.0,
                             auroc_tolerance=lost - 0.01)   # it loses more than it may
    assert not report["accepted"] and "AUROC" in report["reason"] and "not used" in report["reason"]
    assert not companion_paths(bundle)[0].exists() and _verified(bundle) is None


def test_companion_of_other_weights_is_ignored(bundle, tmp_path):
    build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=1.0)
    other = make_tiny_bundle(tmp_path / "other.limodel", lively=True, seed=7)
    for src, dst in zip(companion_paths(bundle), companion_paths(other)):
        shutil.copyfile(src, dst)
    assert _verified(bundle) is not None
    assert _verified(other) is None  # the report names the first bundle's SHA-256
    assert _default_inferencer(other, "cpu").backend_name != "onnxruntime-int8"
    broken = companion_paths(bundle)[1]
    broken.write_text("{not json")
    assert _verified(bundle) is None
    broken.write_text("[1, 2]")  # JSON, but not a report
    assert read_report(bundle) is None and _verified(bundle) is None


def test_model_version_carries_its_companion(bundle, tmp_path):
    build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=1.0)
    info = VersionRegistry(tmp_path / "models", "part").add(bundle)
    onnx_path, report_path = companion_paths(info.bundle_path)
    assert onnx_path.is_file() and json.loads(report_path.read_text())["accepted"]
    assert _default_inferencer(info.bundle_path, "cpu").backend_name == "onnxruntime-int8"
    plain = make_tiny_bundle(tmp_path / "plain.limodel", seed=3)
    info = VersionRegistry(tmp_path / "models", "part").add(plain)
    assert not any(p.exists() for p in companion_paths(info.bundle_path))


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_a_live_start_hashes_the_bundle_once(bundle, tmp_path, monkeypatch, precision):
    """The stored-version check, the companion's check, the backend cache and the ONNX export
    cache all want the bundle's SHA-256: one hash serves them all."""
    import core.inference.backends.export as export
    import core.store.versions as versions

    build_companion(bundle, _images(8, 1), _images(6, 2), tolerance=1.0)
    path = VersionRegistry(tmp_path / "models", "part").add(bundle).bundle_path
    if precision == "fp32":
        monkeypatch.setenv("LINEINSPECTOR_PRECISION", "fp32")
    hashed = []
    for module, name in ((versions, "_sha256"), (export, "file_sha256")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda p, *a, _real=real: hashed.append(p) or _real(p, *a))
    recipe = Recipe(name="part", thresholds=Thresholds(0.3, 0.6, 0.5), active_version=1)
    inf = LiveSession(recipe, path, "sim:x", device="cpu").load_model(path)
    assert (inf.backend_name == "onnxruntime-int8") == (precision == "int8")
    assert hashed == [path]


def test_training_job_needs_held_out_images_for_the_check(bundle, tmp_path):
    paths = []
    for i, img in enumerate(_images(10, 4)):
        import cv2

        p = tmp_path / f"g{i}.png"
        cv2.imwrite(str(p), img)
        paths.append(p)
    out = build_int8_companion(bundle, paths[:6], paths[6:8])
    assert "error" in out and "at least 4 held-out" in out["error"]
    out = build_int8_companion(bundle, paths[:6], paths[6:])
    assert "accepted" in out and read_report(bundle) == out


def test_cli_builds_the_companion_and_refuses_wrong_combinations(bundle, tmp_path, capsys):
    import cv2

    for name, imgs in (("calib", _images(6, 1)), ("check", _images(5, 2))):
        (tmp_path / name).mkdir()
        for i, img in enumerate(imgs):
            cv2.imwrite(str(tmp_path / name / f"{i}.png"), img)
    assert main(["export", str(bundle), "--int8", "--calib", str(tmp_path / "calib"),
                 "--check", str(tmp_path / "check")]) == 0
    out = capsys.readouterr().out
    assert "int8 companion:" in out and "m.int8.json" in out
    assert read_report(bundle)["check_images"] == 5
    assert main(["export", str(bundle), "--check", str(tmp_path / "check")]) != 0
    assert "--int8" in capsys.readouterr().err
