"""Issue 13 item 12: a checkpoint that cannot be used is named in one line, set aside as
``NAME.unusable`` (never deleted, never loaded unsafely) and training starts afresh."""

import io
import json
import logging
import threading

import numpy as np
import pytest
import torch

from core.training.checkpoint import load_checkpoint
from core.training.trainer import TrainSettings, train


class Gadget:  # a custom class: a weights-only load refuses to unpickle it
    def __init__(self):
        self.value = 42


def _custom_class_checkpoint(path):
    torch.save({"model": Gadget(), "step": 3}, path)
    return path


def _random_bytes(path):
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def _foreign_weights_only(path):
    torch.save({"weights": torch.zeros(3)}, path)  # loads safely, but is not one of ours
    return path


BAD = {"custom class": _custom_class_checkpoint, "random bytes": _random_bytes,
       "foreign dict": _foreign_weights_only, "empty": lambda p: (p.write_bytes(b""), p)[1]}


@pytest.mark.parametrize("case", list(BAD))
def test_unusable_checkpoint_is_one_clear_line(tmp_path, case):
    path = BAD[case](tmp_path / "m.limodel.ckpt")
    with pytest.raises(ValueError) as exc:  # CheckpointError, a ValueError the CLI reports
        load_checkpoint(path)
    msg = str(exc.value)
    assert type(exc.value).__name__ == "CheckpointError"
    assert "\n" not in msg and "m.limodel.ckpt" in msg and "cannot be used" in msg
    assert "weights_only" not in msg and "unpickl" not in msg.lower()


def _images():
    rng = np.random.default_rng(0)
    return rng.integers(90, 160, (6, 64, 64, 3), np.uint8)


def _settings(ck, **kw):
    from core.training.presets import get_preset

    return TrainSettings(preset=get_preset("tiny"), seed=3, workers=0, threads=1, steps=1,
                         device="cpu", checkpoint=ck, use_base=False, **kw)


@pytest.mark.parametrize("case", ["custom class", "random bytes"])
def test_training_sets_an_unusable_checkpoint_aside_and_starts_afresh(tmp_path, caplog, case):
    from core.training.data import make_simulator

    ck = BAD[case](tmp_path / "m.limodel.ckpt")
    original = ck.read_bytes()
    with caplog.at_level(logging.WARNING, logger="core.training.trainer"):
        out = train(_images(), make_simulator(None, False), _settings(ck))
    assert out.resumed_from == 0 and out.steps == 1
    aside = tmp_path / "m.limodel.ckpt.unusable"
    assert aside.read_bytes() == original  # the user's file is kept, renamed
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "cannot be used" in warnings[0] and "starting afresh" in warnings[0]
    assert "m.limodel.ckpt.unusable" in warnings[0] and "weights_only" not in warnings[0]


def test_a_second_unusable_checkpoint_does_not_overwrite_the_first(tmp_path):
    from core.training.data import make_simulator

    ck = tmp_path / "m.ckpt"
    (tmp_path / "m.ckpt.unusable").write_bytes(b"first")
    _random_bytes(ck)
    train(_images(), make_simulator(None, False), _settings(ck))
    assert (tmp_path / "m.ckpt.unusable").read_bytes() == b"first"
    assert (tmp_path / "m.ckpt.unusable.1").is_file()


def test_cli_train_says_it_in_one_line_and_trains(tmp_path, capsys):
    from core.cli.main import main
    from tests._gen import make_mvtec_tree

    root = make_mvtec_tree(tmp_path / "ds", n_train=6, n_good=1, n_bad=1)
    out = tmp_path / "m.limodel"
    _custom_class_checkpoint(tmp_path / "m.limodel.ckpt")
    assert main(["train", str(root), "--preset", "tiny", "--steps", "1", "--workers", "0",
                 "--no-base", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and "weights_only" not in err
    lines = [ln for ln in err.splitlines() if "cannot be used" in ln]
    assert len(lines) == 1 and "m.limodel.ckpt.unusable" in lines[0]
    assert out.is_file() and (tmp_path / "m.limodel.ckpt.unusable").is_file()


def test_training_job_reports_the_unusable_checkpoint_and_trains(tmp_path, monkeypatch):
    import cv2

    from core.training import files, job

    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i, im in enumerate(_images()):
        cv2.imwrite(str(imgs / f"g{i}.png"), im)
    run = tmp_path / "run"
    run.mkdir()
    _random_bytes(run / files.CHECKPOINT_FILE)
    monkeypatch.setattr(job, "build_int8_companion", lambda *a, **k: {"error": "skipped in test"})
    spec = job.JobSpec(data=str(imgs), run_dir=str(run), preset="tiny", steps=1, workers=0,
                       device="cpu", use_base=False)
    stream = io.StringIO()
    assert job.run(spec, job._Reporter(stream), threading.Event()) == job.EXIT_OK
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    start = next(e for e in events if e["event"] == "start")
    assert start["resumed_from"] == 0
    notes = [e["message"] for e in events if e["event"] == "status" and "cannot be used" in e["message"]]
    assert len(notes) == 1 and "unusable" in notes[0] and "weights_only" not in notes[0]
    assert events[-1]["event"] == "done"
    assert (run / (files.CHECKPOINT_FILE + ".unusable")).is_file()
