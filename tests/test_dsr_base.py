"""DSR's general appearance stage: training on shippable surfaces, the base file, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.cli.main import main as cli
from core.model.dsr.config import DsrConfig
from core.model.dsr.model import DsrModel
from core.training.dsr_base import (
    BaseFileError, FolderSurfaces, load_base, save_base, surface_batches, train_base,
)


class FlatSurfaces:
    """Smooth random colour fields: a falling reconstruction loss within a few steps."""

    def pair(self, size, rng):
        img = np.full((size, size, 3), rng.uniform(0.2, 0.8, 3), np.float32)
        return img, img


def test_surface_batches_shape_range_and_bad_sizes():
    batch = next(surface_batches(FlatSurfaces(), 64, 3, seed=0))
    assert batch.shape == (3, 3, 64, 64) and batch.dtype == torch.float32
    assert 0.0 <= float(batch.min()) and float(batch.max()) <= 1.0
    with pytest.raises(ValueError, match="multiple of 32"):
        next(surface_batches(FlatSurfaces(), 70, 3, seed=0))
    with pytest.raises(ValueError, match="batch"):
        next(surface_batches(FlatSurfaces(), 64, 0, seed=0))


def test_train_base_learns_and_round_trips(tmp_path):
    out = tmp_path / "b.dsrbase"
    seen = []
    path, result = train_base(out, FlatSurfaces(), config=DsrConfig.tiny(), steps=30, crop=64,
                              batch=4, training_data={"what": "flat"},
                              progress=lambda s, t, loss, e: seen.append((s, t, loss)))
    assert path == out and result.steps == 30 and [s for s, _, _ in seen] == list(range(1, 31))
    assert np.mean(result.losses[-5:]) < np.mean(result.losses[:5])
    base = load_base(out)
    assert base.config == DsrConfig.tiny()
    assert base.meta["training"]["steps"] == 30 and base.meta["training_data"] == {"what": "flat"}
    fresh = DsrModel(DsrConfig.tiny())
    base.apply_to(fresh)
    assert torch.equal(fresh.vqvae.quant_fine.embedding, base.state_dict["quant_fine.embedding"])
    with pytest.raises(BaseFileError, match="configuration differs"):
        base.apply_to(DsrModel(DsrConfig.cpu()))


def test_time_budget_uses_the_clock_and_cancel_writes_nothing(tmp_path):
    ticks = iter(range(0, 10_000, 20))  # every call: 20 s later
    out = tmp_path / "b.dsrbase"
    _, result = train_base(out, FlatSurfaces(), config=DsrConfig.tiny(), minutes=1.0, crop=64,
                           batch=2, clock=lambda: float(next(ticks)))
    assert 1 <= result.steps <= 3 and out.is_file()
    gone = tmp_path / "never.dsrbase"
    with pytest.raises(InterruptedError):
        train_base(gone, FlatSurfaces(), config=DsrConfig.tiny(), steps=50, crop=64, batch=2,
                   cancel=lambda: True)
    assert not gone.exists()
    with pytest.raises(ValueError, match="steps, minutes"):
        train_base(gone, FlatSurfaces(), config=DsrConfig.tiny())
    with pytest.raises(ValueError, match="minutes"):
        train_base(gone, FlatSurfaces(), config=DsrConfig.tiny(), minutes=float("nan"))


def _base(tmp_path, name="b.dsrbase"):
    return save_base(tmp_path / name, DsrModel(DsrConfig.tiny()), {"training": {}})


def test_damaged_or_foreign_base_files_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    with pytest.raises(BaseFileError, match="not found"):
        load_base(tmp_path / "none.dsrbase")
    junk = tmp_path / "junk.dsrbase"
    junk.write_bytes(b"\x00" * 40)
    with pytest.raises(BaseFileError, match="not a DSR base"):
        load_base(junk)
    good = _base(tmp_path)
    state = load_file(str(good))
    save_file(state, str(tmp_path / "foreign.dsrbase"), metadata={"lineinspector": json.dumps({"kind": "x"})})
    with pytest.raises(BaseFileError, match="not a DSR base"):
        load_base(tmp_path / "foreign.dsrbase")
    meta = {"lineinspector": json.dumps({"kind": "dsr-base", "format_version": 1,
                                         "dsr": DsrConfig.tiny().to_dict()})}
    bad = dict(state)
    bad["quant_fine.embedding"] = torch.full_like(state["quant_fine.embedding"], float("nan"))
    save_file(bad, str(tmp_path / "nan.dsrbase"), metadata=meta)
    with pytest.raises(BaseFileError, match="NaN"):
        load_base(tmp_path / "nan.dsrbase")
    short = {k: v for k, v in state.items() if k != "quant_fine.embedding"}
    save_file(short, str(tmp_path / "short.dsrbase"), metadata=meta)
    with pytest.raises(BaseFileError, match="missing"):
        load_base(tmp_path / "short.dsrbase")
    newer = {"lineinspector": json.dumps({"kind": "dsr-base", "format_version": 99, "dsr": {}})}
    save_file(state, str(tmp_path / "newer.dsrbase"), metadata=newer)
    with pytest.raises(BaseFileError, match="format 99"):
        load_base(tmp_path / "newer.dsrbase")


def test_folder_surfaces_need_readable_images(tmp_path):
    import cv2

    with pytest.raises(ValueError, match="no readable images"):
        FolderSurfaces([tmp_path])
    cv2.imwrite(str(tmp_path / "a.png"), np.full((96, 96, 3), 128, np.uint8))
    a, b = FolderSurfaces([tmp_path]).pair(64, np.random.default_rng(0))
    assert a.shape == b.shape == (64, 64, 3)


@pytest.mark.parametrize("argv, message", [
    (["--steps", "0"], "--steps"),
    (["--minutes", "-1"], "--minutes"),
    (["--minutes", "nan"], "--minutes"),
    (["--steps", "5", "--crop", "100"], "--crop"),
    (["--steps", "5", "--batch-size", "0"], "--batch-size"),
    (["--steps", "5", "--only-images"], "--only-images"),
    (["--steps", "5", "--images", "/nonexistent/x"], "folder not found"),
    ([], "--minutes, --steps"),
])
def test_cli_rejects_bad_numbers_in_one_line(tmp_path, capsys, argv, message):
    assert cli(["train-base", "--out", str(tmp_path / "b.dsrbase"), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "b.dsrbase").exists()


def test_cli_trains_on_a_users_own_images(tmp_path, capsys):
    import cv2

    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(2):
        cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 255, (128, 128, 3), dtype=np.uint8))
    out = tmp_path / "mine"
    assert cli(["train-base", "--out", str(out), "--images", str(folder), "--only-images",
                "--steps", "2", "--crop", "64", "--batch-size", "2"]) == 0
    base = load_base(tmp_path / "mine.dsrbase")
    assert base.config == DsrConfig.cpu()
    data = base.meta["training_data"]
    assert data["image_files"] == 2 and data["procedural_textures"] is False
    assert "wrote" in capsys.readouterr().out
