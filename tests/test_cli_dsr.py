"""Issue 15: `lineinspect predict`, `eval` and `export` run a DSR bundle, and the backend line
names the model kind."""

import csv
import json

import pytest

from core.cli.main import main
from tests._gen import make_mvtec_tree
from tests.dsr_fakes import lively_dsr_model, make_tiny_dsr_bundle


@pytest.fixture(scope="module")
def dsr(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli-dsr")
    root = make_mvtec_tree(tmp / "ds", n_train=2, n_good=2, n_bad=2)
    return root, make_tiny_dsr_bundle(tmp / "m.limodel", model=lively_dsr_model(0, confident=True))


def test_eval_and_predict_run_a_dsr_bundle(dsr, tmp_path, capsys):
    root, model = dsr
    out = tmp_path / "m.json"
    assert main(["eval", str(model), str(root), "--json", str(out), "--backend", "onnxruntime"]) == 0
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["images"] == 4 and 0.0 <= metrics["image_auroc"] <= 1.0
    assert "backend: DSR · onnxruntime (CPUExecutionProvider" in capsys.readouterr().out
    pred = tmp_path / "pred"
    assert main(["predict", str(model), str(root / "test/spot"), "--out", str(pred)]) == 0
    rows = list(csv.DictReader((pred / "scores.csv").open()))
    assert len(rows) == 2 and all(r["verdict"] in ("OK", "REVIEW", "NG") for r in rows)


def test_export_writes_a_dsr_graph_that_names_its_model(dsr, tmp_path):
    from core.inference.backends.export import read_onnx_meta

    _, model = dsr
    out = tmp_path / "m.onnx"
    assert main(["export", str(model), "--out", str(out)]) == 0
    meta = read_onnx_meta(out)
    assert meta["model"] == "dsr" and meta["dsr"]["codebook_size"] == 32


def test_a_draem_scope_for_a_dsr_export_is_a_usage_error(dsr, tmp_path, capsys):
    root, model = dsr
    argv = ["export", str(model), "--int8", "--calib", str(root / "train/good"), "--int8-scope",
            "reconstructive", "--out", str(tmp_path / "q.onnx")]
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "does not exist in a DSR model" in err and "Traceback" not in err
