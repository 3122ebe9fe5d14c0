"""`lineinspect predict/eval --backend`: every backend gives the same scores and says which ran."""

from __future__ import annotations

import csv
import sys

import pytest

from core.cli.main import main
from tests._gen import make_mvtec_tree
from tests.inspection_fakes import make_tiny_bundle

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_backend")
    root = make_mvtec_tree(tmp / "ds", n_train=1, n_good=3, n_bad=3)
    model = make_tiny_bundle(tmp / "m.limodel", lively=True,
                             thresholds={"ok_limit": 0.45, "ng_limit": 0.55, "pixel": 0.5})
    return root, model


@pytest.fixture(autouse=True)
def _one_thread(monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "1")  # small model, busy test machines


def _predict(model, images, out, backend, capsys):
    assert main(["predict", str(model), str(images), "--out", str(out), "--backend", backend,
                 "--device", "cpu", "--recursive"]) == 0
    printed = capsys.readouterr().out
    rows = list(csv.DictReader((out / "scores.csv").open()))
    return printed, {r["image"]: (float(r["score"]), r["verdict"]) for r in rows}


def test_predict_on_each_backend_same_scores_and_names_it(data, tmp_path, capsys):
    root, model = data
    images = root / "test"
    printed, ref = _predict(model, images, tmp_path / "ref", "reference", capsys)
    assert "backend: pytorch reference (CPU, 1 thread); requested" in printed
    assert len(ref) == 6
    for backend, shown in (("torch", "pytorch (cpu"), ("onnxruntime", "onnxruntime (CPUExecutionProvider"),
                           ("auto", "measured (")):
        printed, got = _predict(model, images, tmp_path / backend, backend, capsys)
        assert "backend: " in printed and shown in printed, printed
        assert got.keys() == ref.keys()
        for image, (score, verdict) in got.items():
            assert abs(score - ref[image][0]) <= 1e-4 and verdict == ref[image][1]


def test_eval_backend_and_bad_requests(data, tmp_path, capsys, monkeypatch):
    root, model = data
    assert main(["eval", str(model), str(root), "--backend", "ort", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "backend: onnxruntime" in out and "image_auroc" in out
    with pytest.raises(SystemExit) as exc:
        main(["predict", str(model), str(root), "--out", str(tmp_path), "--backend", "tensorrt"])
    assert exc.value.code == 2 and "invalid choice: 'tensorrt'" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # a named backend that cannot load
    monkeypatch.setitem(sys.modules, "openvino", None)
    assert main(["eval", str(model), str(root), "--backend", "onnxruntime", "--device", "cpu"]) == 2
    assert "error:" in capsys.readouterr().err
    assert main(["eval", str(model), str(root), "--device", "cpu"]) == 0  # auto: what there is
    assert "backend: pytorch" in capsys.readouterr().out
