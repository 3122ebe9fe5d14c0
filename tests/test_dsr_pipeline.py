"""DSR training for a part: presets, stages 2 and 3 to a calibrated bundle, budget, cancel,
the stage-2 checkpoint."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from core.inference.bundle import load_bundle
from core.model.dsr.config import DsrConfig
from core.model.dsr.model import DsrModel
from core.training.dsr_base import save_base
from core.training.dsr_pipeline import good_batches, train_dsr_to_bundle
from core.training.dsr_presets import DSR_PRESETS, get_dsr_preset
from core.training.presets import get_preset
from core.training.trainer import TrainingCancelled, TrainSettings


def make_images(folder: Path, n: int = 8, size: int = 64) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        p = folder / f"g{i}.png"
        cv2.imwrite(str(p), rng.integers(90, 160, (size, size, 3), np.uint8))
        out.append(p)
    return out


def make_base(path: Path, config: DsrConfig | None = None) -> Path:
    """An untrained VQ-VAE as a base file: enough to run the part's stages."""
    return save_base(path, DsrModel(config or DsrConfig.tiny()), {"training": {"steps": 0}})


def test_fast_takes_its_input_as_draem_fast():
    fast, draem = DSR_PRESETS["fast"], get_preset("fast")
    assert fast.dsr_config() == DsrConfig.cpu() and fast.minutes == 20 and fast.batch_size == 8
    assert (fast.input_mode, fast.train_size, fast.max_side, fast.overlap) == \
        (draem.input_mode, draem.train_size, draem.max_side, draem.overlap)
    assert DSR_PRESETS["thorough"].minutes == 60
    paper = DSR_PRESETS["paper"]
    assert paper.dsr_config() == DsrConfig.paper() and paper.image_size == (256, 256)
    assert paper.input_mode == "resize" and paper.batch_size == 8


def test_preset_steps_split_and_validation():
    from core.training import dsr_presets

    assert dsr_presets.MULTIPLE == DsrConfig.MULTIPLE
    tiny = get_dsr_preset("tiny", stage3_share=0.25)
    assert tiny.stage_steps(8) == (6, 2) and tiny.stage_steps(2) == (1, 1)
    with pytest.raises(ValueError, match="at least 2 steps"):
        tiny.stage_steps(1)
    with pytest.raises(ValueError, match="unknown DSR preset 'huge'"):
        get_dsr_preset("huge")
    with pytest.raises(ValueError, match="stage3_share must be between 0 and 1"):
        get_dsr_preset("tiny", stage3_share=1.0)
    with pytest.raises(ValueError, match="config must be one of cpu, paper, tiny"):
        get_dsr_preset("tiny", config="big")
    with pytest.raises(ValueError, match="image_size"):
        get_dsr_preset("tiny", image_size=(48, 64))


def test_good_batches_are_reproducible_crops_in_range():
    images = [np.full((80, 100, 3), 128, np.uint8), np.full((64, 64, 3), 30, np.uint8)]
    a = next(good_batches(images, 64, 3, seed=1, stream=2))
    b = next(good_batches(images, 64, 3, seed=1, stream=2))
    assert a.shape == (3, 3, 64, 64) and bool((a == b).all())
    assert 0.0 <= float(a.min()) and float(a.max()) <= 1.0
    rotated = next(good_batches(images[:1], 64, 64, seed=0, stream=2, rotate_prob=1.0))
    assert float(rotated.min()) == 0.0  # the rotation's black corners


def _settings(tmp_path: Path, **kw) -> TrainSettings:
    preset = kw.pop("preset", get_dsr_preset("tiny"))
    return TrainSettings(preset, device="cpu", threads=1, **kw)


def test_trains_both_stages_to_a_calibrated_dsr_bundle(tmp_path):
    base = make_base(tmp_path / "b.dsrbase")
    seen = []
    result = train_dsr_to_bundle(make_images(tmp_path / "imgs"), tmp_path / "m.limodel",
                                 _settings(tmp_path, steps=6), holdout=0.25,
                                 progress=seen.append, base=base)
    assert [p.stage for p in seen] == [2, 2, 2, 2, 3, 3]
    assert [p.step for p in seen] == [1, 2, 3, 4, 5, 6] and {p.total for p in seen} == {6}
    assert {"loss", "focal"} <= set(seen[0].losses) and "loss" in seen[-1].losses
    bundle = load_bundle(result.bundle)
    assert bundle.meta["model"] == "dsr" and bundle.meta["dsr"] == DsrConfig.tiny().to_dict()
    assert isinstance(bundle.build_model(), DsrModel)
    t = bundle.meta["training"]
    assert t["stage_steps"] == {"stage2": 4, "stage3": 2} and t["base"]["path"] == str(base)
    assert bundle.meta["training_data"]["holdout_images"] == 2
    assert "ok_limit" in bundle.meta["thresholds"] and result.steps == 6


def test_continue_training_starts_from_the_given_dsr_model(tmp_path):
    import torch

    images = make_images(tmp_path / "imgs")
    first = train_dsr_to_bundle(images, tmp_path / "v1.limodel", _settings(tmp_path, steps=2),
                                holdout=0.25, base=make_base(tmp_path / "b.dsrbase"))
    v1 = load_bundle(first.bundle).state_dict
    # a base of the right sizes but other weights: a continued run must not start from it
    other = make_base(tmp_path / "other.dsrbase")
    second = train_dsr_to_bundle(images, tmp_path / "v2.limodel",
                                 _settings(tmp_path, steps=2, init_from=first.bundle),
                                 holdout=0.25, base=other)
    v2 = load_bundle(second.bundle).state_dict
    assert second.meta["training"]["base"]["continued_from"] == str(first.bundle)
    # the VQ-VAE is fixed in stages 2 and 3: continued, it is v1's, not the other base's
    from core.training.dsr_base import load_base

    key = "vqvae.quant_fine.embedding"
    assert not torch.equal(load_base(other).state_dict["quant_fine.embedding"], v1[key])
    assert torch.equal(v2[key], v1[key])
    draem = tmp_path / "draem.limodel"
    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel

    save_bundle(draem, DraemModel(8, 4).state_dict(),
                {"preset": "tiny", "recon_width": 8, "disc_width": 4, "image_size": [64, 64]})
    with pytest.raises(ValueError, match="cannot be continued"):
        train_dsr_to_bundle(images, tmp_path / "v3.limodel",
                            _settings(tmp_path, steps=2, init_from=draem), base=other)
    assert not (tmp_path / "v3.limodel").exists()


def test_tiles_preset_records_its_input(tmp_path):
    preset = get_dsr_preset("tiny", input_mode="tiles", max_side=64)
    result = train_dsr_to_bundle(make_images(tmp_path / "imgs", size=96), tmp_path / "m.limodel",
                                 _settings(tmp_path, preset=preset, steps=2), holdout=0.25,
                                 base=make_base(tmp_path / "b.dsrbase"))
    assert result.meta["input"]["mode"] == "tiles" and result.meta["input"]["scale"] < 1.0


def test_a_base_of_other_sizes_is_refused_clearly(tmp_path):
    other = make_base(tmp_path / "o.dsrbase", DsrConfig(**{**DsrConfig.tiny().to_dict(),
                                                           "codebook_size": 16}))
    with pytest.raises(ValueError, match="trained for other network sizes"):
        train_dsr_to_bundle(make_images(tmp_path / "imgs"), tmp_path / "m.limodel",
                            _settings(tmp_path, steps=2), base=other)
    assert not (tmp_path / "m.limodel").exists()


def test_cancel_writes_nothing_and_resume_skips_stage_2(tmp_path):
    base, imgs, out = make_base(tmp_path / "b.dsrbase"), make_images(tmp_path / "imgs"), \
        tmp_path / "m.limodel"
    ck = tmp_path / "m.ckpt"
    cancel = threading.Event()

    def stop_in_stage_3(p):
        if p.stage == 3:
            cancel.set()

    with pytest.raises(TrainingCancelled, match="stage 3"):
        train_dsr_to_bundle(imgs, out, _settings(tmp_path, steps=6, checkpoint=ck), holdout=0.25,
                            progress=stop_in_stage_3, cancel=cancel, base=base)
    assert not out.exists() and ck.is_file()
    seen = []
    result = train_dsr_to_bundle(imgs, out, _settings(tmp_path, steps=6, checkpoint=ck),
                                 holdout=0.25, progress=seen.append, base=tmp_path / "gone")
    assert {p.stage for p in seen} == {3} and [p.step for p in seen] == [5, 6]
    assert result.meta["training"]["resumed_after_stage2"] is True
    assert result.meta["training"]["base"]["path"] == str(base)
    with pytest.raises(ValueError, match="belongs to another run"):
        train_dsr_to_bundle(imgs, out, _settings(tmp_path, steps=6, checkpoint=ck, seed=3),
                            base=base)


def test_a_damaged_checkpoint_is_set_aside(tmp_path):
    ck = tmp_path / "m.ckpt"
    ck.write_bytes(b"not a checkpoint")
    train_dsr_to_bundle(make_images(tmp_path / "imgs"), tmp_path / "m.limodel",
                        _settings(tmp_path, steps=2, checkpoint=ck),
                        base=make_base(tmp_path / "b.dsrbase"))
    assert (tmp_path / "m.ckpt.unusable").read_bytes() == b"not a checkpoint"


def test_a_minutes_budget_fits_each_stage_and_its_milestones(tmp_path):
    now = [0.0]
    seen = []

    def tick(p):  # every step takes one second of the fake clock
        seen.append(p)
        now[0] += 1.0

    result = train_dsr_to_bundle(make_images(tmp_path / "imgs"), tmp_path / "m.limodel",
                                 _settings(tmp_path, minutes=0.5, clock=lambda: now[0],
                                           preset=get_dsr_preset("tiny", stage3_share=0.25)),
                                 holdout=0.25, progress=tick, base=make_base(tmp_path / "b.dsrbase"))
    s2 = [p for p in seen if p.stage == 2]
    s3 = [p for p in seen if p.stage == 3]
    assert 20 <= len(s2) <= 24 and 6 <= len(s3) <= 9  # 22.5 s and 7.5 s of one-second steps
    assert result.meta["training"]["stage_steps"] == {"stage2": len(s2), "stage3": len(s3)}
    decayed = [i for i, p in enumerate(s2) if p.lr < 1e-4]  # x0.1 at 80 % of stage 2
    assert decayed and 0.7 * len(s2) <= decayed[0] <= 0.9 * len(s2)
    assert seen[-1].total == seen[-1].step and seen[-1].eta_s == 0.0


def test_lr_at_is_the_stage_schedule():
    import torch

    from core.training.dsr_stages import StageOptimiser

    param = torch.nn.Parameter(torch.zeros(1))
    optimiser = StageOptimiser.upsampling()
    opt, schedule = optimiser.build([param], 50)
    for done in range(50):
        assert optimiser.lr_at(done, 50) == pytest.approx(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()


def test_a_dsr_job_reports_the_same_events(tmp_path):
    import io
    import json

    from core.training.job import EXIT_OK, JobSpec, _Reporter, run

    spec = JobSpec(data=[str(p) for p in make_images(tmp_path / "imgs")], run_dir=str(tmp_path / "run"),
                   preset="tiny", steps=4, device="cpu", threads=1, holdout=0.25, model="dsr",
                   dsr_base=str(make_base(tmp_path / "b.dsrbase")))
    stream, cancel = io.StringIO(), threading.Event()
    try:
        assert run(JobSpec.load(spec.save()), _Reporter(stream), cancel) == EXIT_OK
    finally:
        cancel.set()  # stops the cancel-file watcher
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "progress" in kinds
    assert {e.get("stage") for e in events if e["event"] == "progress"} == {2, 3}
    done = events[-1]
    assert done["meta"]["model"] == "dsr" and done["steps"] == 4 and "int8" in done
    assert load_bundle(done["bundle"]).meta["model"] == "dsr"
    assert not (tmp_path / "run" / "checkpoint.pt").exists()  # the bundle is written


def test_cli_trains_dsr_with_a_base(tmp_path, capsys):
    from core.cli.main import main

    make_images(tmp_path / "imgs")
    base = make_base(tmp_path / "b.dsrbase")
    assert main(["train", str(tmp_path / "imgs"), "--model", "dsr", "--preset", "tiny", "--steps",
                 "3", "--base", str(base), "--device", "cpu", "--out", str(tmp_path / "m")]) == 0
    assert "stage 2: 2, stage 3: 1" in capsys.readouterr().out
    assert load_bundle(tmp_path / "m.limodel").meta["model"] == "dsr"
    assert not (tmp_path / "m.limodel.ckpt").exists()


@pytest.mark.parametrize("extra, message", [
    (["--base", "{tmp}/gone.dsrbase"], "DSR base file not found"),
    (["--steps", "1"], "at least 2 for DSR"),
    (["--textures", "{tmp}"], "--textures is a DRÆM setting"),
    (["--workers", "0"], "--workers is a DRÆM setting"),
    (["--no-base"], "--no-base is DRÆM's"),
    (["--preset", "huge"], "unknown DSR preset 'huge'"),
    (["--image-size", "32", "64"], "at least 64 for DSR"),
    (["--minutes", "0"], "--minutes must be positive"),
])
def test_cli_dsr_flags_are_checked(tmp_path, capsys, extra, message):
    from core.cli.main import main

    make_images(tmp_path / "imgs", n=2)
    args = [a.replace("{tmp}", str(tmp_path)) for a in extra]
    assert main(["train", str(tmp_path / "imgs"), "--model", "dsr", *args,
                 "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_cli_base_needs_dsr(tmp_path, capsys):
    from core.cli.main import main

    make_images(tmp_path / "imgs", n=2)
    assert main(["train", str(tmp_path / "imgs"), "--base", str(tmp_path / "b.dsrbase"),
                 "--out", str(tmp_path / "m")]) == 2
    assert "use it with --model dsr" in capsys.readouterr().err


def test_estimate_measures_a_dsr_step(capsys):
    import json

    from core.training.estimate import describe_estimate, estimate_seconds, main, measure_seconds_per_step

    tiny = get_dsr_preset("tiny")
    assert measure_seconds_per_step(tiny, steps=2, device="cpu", threads=1) > 0
    assert estimate_seconds(tiny, 10, 0.5) == pytest.approx(4 * 0.5 + 5.0)
    assert "DSR tiny sizes" in describe_estimate(tiny, None, 0, 10, measuring=True)
    assert main(["--model", "dsr", "--preset", "tiny", "--steps", "1", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["model"] == "dsr" and out["seconds_per_step"] > 0
    assert main(["--model", "dsr", "--preset", "huge"]) == 1
    assert "unknown DSR preset" in json.loads(capsys.readouterr().out)["error"]
