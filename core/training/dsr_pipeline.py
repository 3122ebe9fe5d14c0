"""From a folder of good images to a calibrated DSR bundle: stages 2 and 3 on the part's good
images, on top of the general appearance VQ-VAE of a base file (core/training/dsr_base.py).

Stage 2 (object-specific decoder, subspace restriction, anomaly detection) then stage 3 (the
upsampling module), core/training/dsr_stages.py, share the preset's steps (``stage3_share``
of them to stage 3) or, with ``settings.minutes``, its time: each stage's step count is fitted
to its share of the budget from its first steps' measured time (BudgetPlanner), so its
learning-rate milestones fall at fractions of the steps it really runs.

Checkpoint (``settings.checkpoint``): written atomically at the end of stage 2 (the whole
model). A later run of the same preset and seed with ``resume`` skips stage 2 and runs stage 3
from it; an interrupted stage 2 starts again. Cancel (the event) raises TrainingCancelled and
writes no bundle; a failed or cancelled run never replaces a model at ``out``.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from core.evaluation.calibration import DEFAULT_FALSE_REJECT
from core.evaluation.datasets import train_good_images
from core.inference.bundle import save_bundle
from core.training.data import load_image_set, random_crop, split_holdout
from core.training.defect_samples import check_share, defect_batches, defects_meta, usable_defects
from core.training.dsr_presets import DsrPreset, dsr_preset_from_dict
from core.training.dsr_stages import DEFECT_SHARE
from core.training.pipeline import PipelineResult, _fingerprint, calibrate_on_holdout
from core.training.schedule import BudgetPlanner
from core.training.trainer import Progress, TrainingCancelled, TrainSettings

log = logging.getLogger(__name__)

ROTATE_PROB = 0.3          # the official training set rotates 30 % of the good images
ROTATE_DEGREES = 90.0      # by U(-90, 90) degrees, as DRÆM's simulator
HORIZON = 10 ** 9          # a budgeted stage's step count until its step time is measured
CHECKPOINT_KIND = "dsr-stage2"


def good_batches(images, crop: int, batch: int, seed: int, stream: int,
                 rotate_prob: float = ROTATE_PROB) -> Iterator[torch.Tensor]:
    """Endless float batches [B, 3, H, W] in [0, 1] of the good images: a random ``crop``
    (0: the whole image, all of one size), rotated with probability ``rotate_prob``. Sample k
    of ``stream`` depends on (seed, stream, k) alone."""
    from core.synth.perlin import rotate_image

    k = 0
    while True:
        out = []
        for _ in range(batch):
            rng = np.random.default_rng((seed, 5, stream, k))
            k += 1
            img = images[int(rng.integers(len(images)))]
            if crop:
                img = random_crop(img, crop, rng)
            x = img.astype(np.float32) / 255.0
            if rng.random() < rotate_prob:
                x = rotate_image(x, rng.uniform(-ROTATE_DEGREES, ROTATE_DEGREES))
            out.append(x)
        yield torch.from_numpy(np.ascontiguousarray(np.stack(out).transpose(0, 3, 1, 2)))


def _load_base(base, config):
    from core.training.dsr_base import DEFAULT_BASE, load_base

    loaded = load_base(DEFAULT_BASE if base is None else base)
    if loaded.config != config:
        raise ValueError(f"{loaded.path}: this DSR base was trained for other network sizes "
                         f"than the preset's; train one for them (lineinspect train-base) "
                         f"or choose the preset it was made for")
    return loaded


def _continued(path, config) -> tuple[dict, dict]:
    """(state dict, what the bundle records) of a DSR model to continue training from."""
    from core.inference.bundle import load_bundle

    bundle = load_bundle(path)
    if bundle.meta.get("model", "draem") != "dsr" or bundle.meta.get("dsr") != config.to_dict():
        raise ValueError(f"{path}: not a DSR model of the preset's network sizes; it cannot be "
                         f"continued with this preset")
    training = bundle.meta.get("training") or {}
    return bundle.state_dict, {"continued_from": str(path), "steps": training.get("steps"),
                               "base": training.get("base")}


def _save_stage2(path: Path, model, preset: DsrPreset, seed: int, info: dict) -> None:
    from core.atomic import atomic_open

    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    with atomic_open(path, "wb") as fh:
        torch.save({"kind": CHECKPOINT_KIND, "model": state, "seed": seed,
                    "preset": json.dumps(preset.to_dict()), "info": json.dumps(info)}, fh)


def open_stage2_checkpoint(path: Path | None, resume: bool, preset: DsrPreset, seed: int) -> dict | None:
    """The stage-2 checkpoint to resume from, or None; an unreadable one is set aside."""
    from core.training.checkpoint import set_aside

    if path is None or not resume or not path.exists():
        return None
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(ck, dict) or ck.get("kind") != CHECKPOINT_KIND:
            raise ValueError("not a DSR checkpoint")
        ck["preset"] = dsr_preset_from_dict(json.loads(ck["preset"]))
        ck["info"] = json.loads(ck["info"])
    except Exception as exc:  # a foreign or damaged file: one line, then start afresh
        aside = set_aside(path)
        log.warning("checkpoint %s cannot be used (%s); starting afresh; renamed to %s",
                    path, str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__, aside)
        return None
    if ck["preset"] != preset or ck["seed"] != seed:
        raise ValueError(f"checkpoint {path} belongs to another run (preset "
                         f"{ck['preset'].name}, seed {ck['seed']}); delete it or change --out")
    return ck


class _Stages:
    """Runs stages 2 and 3 with one progress stream, a shared budget and the cancel event."""

    def __init__(self, settings: TrainSettings, progress, cancel, done_before: int = 0,
                 elapsed_before: float = 0.0) -> None:
        self.settings, self.preset = settings, settings.preset
        self.clock = settings.clock
        self.progress, self.cancel = progress, cancel
        self.budget_s = (settings.minutes or 0) * 60.0
        self.fixed = self.preset.stage_steps(settings.steps)
        self.done_before, self.elapsed_before = done_before, elapsed_before
        self.t0 = self.clock()

    def elapsed(self) -> float:
        return self.elapsed_before + self.clock() - self.t0

    def run(self, stage: int, fn, model, batches) -> tuple[int, float]:
        """Run stage 2 or 3; (steps run, seconds per step)."""
        cap = self.fixed[stage - 2]
        share = self.preset.stage3_share if stage == 3 else 1.0 - self.preset.stage3_share
        planner = None
        if self.budget_s:
            planner = BudgetPlanner(self.budget_s * share, clock=self.clock,
                                    max_steps=cap if self.settings.steps else None)
        steps = (cap if self.settings.steps else HORIZON) if planner else cap
        known = {"total": None if planner else steps}
        start = self.clock()

        def fit(done: int, current: int) -> int:
            if planner.expired():
                total = done
            else:
                total = planner.total(done, None if known["total"] is None else current)
            known["total"] = total
            return current if total is None else total

        def report(done: int, loss: float, parts: dict, lr: float) -> None:
            if self.progress is None:
                return
            per_step = (self.clock() - start) / done
            total = known["total"]
            if total is None:
                whole, eta = None, None
            else:
                rest = self._later(stage, total)
                whole = self.done_before + total + rest
                eta = (max(0.0, self.budget_s - self.elapsed()) if planner
                       else per_step * (total - done + rest))
            self.progress(Progress(self.done_before + done, whole, {"loss": loss, **parts}, lr,
                                   self.elapsed(), eta, self.preset.batch_size / max(per_step, 1e-9),
                                   stage=stage))

        gen = torch.Generator().manual_seed(self.settings.seed * 4 + stage)
        result = fn(model, batches, steps, generator=gen, fit=fit if planner else None,
                    report=report, cancel=None if self.cancel is None else self.cancel.is_set)
        if result.cancelled:
            raise TrainingCancelled(f"cancelled in stage {stage} at step {result.steps}")
        if result.steps == 0:
            raise ValueError(f"DSR stage {stage} ran no step; nothing was written")
        self.done_before += result.steps
        return result.steps, (self.clock() - start) / result.steps

    def _later(self, stage: int, total: int) -> int:
        """Stage 3's steps, while stage 2 runs: fixed, or in proportion of the budget."""
        if stage == 3:
            return 0
        if not self.budget_s:
            return self.fixed[1]
        share = self.preset.stage3_share
        return max(1, round(total * share / (1.0 - share)))


def train_dsr_to_bundle(data: str | Path | list[Path], out: str | Path, settings: TrainSettings, *,
                        holdout: float = 0.1, false_reject: float = DEFAULT_FALSE_REJECT,
                        progress: Callable[[Progress], None] | None = None,
                        cancel: threading.Event | None = None,
                        base: str | Path | None = None, defects: str | Path | None = None,
                        defect_share: float = DEFECT_SHARE) -> PipelineResult:
    """Train DSR's stages 2 and 3 (``settings.preset``: a DsrPreset) on ``data`` (a folder, an
    MVTec-layout root or image paths) over the VQ-VAE of ``base`` (default the shipped
    DEFAULT_BASE), calibrate on held-out good images and write the bundle atomically.

    ``defects``: a folder of annotated defective images (core/training/defect_samples.py), the
    paper's supervised extension: ``defect_share`` of each batch of both stages are real
    defects; the bundle records how many and each file's digest (``training_data.defects``),
    so that evaluation leaves them out and says so. Unusable ones are in the result's skipped.
    """
    from core.device import configure_cpu_threads, select_device
    from core.inference.tiling import InputSpec
    from core.model.dsr.model import DsrModel
    from core.training.dsr_stages import train_object_specific, train_upsampling

    preset: DsrPreset = settings.preset
    if not isinstance(preset, DsrPreset):
        raise TypeError(f"DSR training needs a DSR preset, got {type(preset).__name__}")
    paths = list(data) if isinstance(data, list) else train_good_images(data)
    if not paths:
        raise ValueError(f"no training images in {data}")
    tiles = preset.input_mode == "tiles"
    train_paths, val_paths = split_holdout(paths, holdout, settings.seed)
    train_set = load_image_set(train_paths, preset.image_size, preset.input_mode,
                               max_side=preset.max_side)
    val_set = load_image_set(val_paths, preset.image_size, preset.input_mode, train_set.scale) \
        if val_paths else None
    log.info("DSR training on %d images (%d held out, %d skipped)", len(train_set),
             len(val_paths), len(train_set.skipped))
    found = None if defects is None else usable_defects(
        defects, preset.image_size, preset.input_mode, train_set.scale, train_set.grayscale)
    record = None
    if found is not None:
        check_share(defect_share)  # a bad share fails before any training
        record = defects_meta(found, defects, defect_share)
        log.info("with %d annotated defect images (%d skipped)", len(found), len(found.skipped))
    config = preset.dsr_config()
    ck_path = None if settings.checkpoint is None else Path(settings.checkpoint)
    ck = open_stage2_checkpoint(ck_path, settings.resume, preset, settings.seed)
    device = select_device(settings.device)
    if device.type != "cuda":
        configure_cpu_threads(settings.threads)
    torch.manual_seed(settings.seed)
    model = DsrModel(config)
    if ck is None and settings.init_from is not None:  # "continue training" a deployed model
        state, base_info = _continued(settings.init_from, config)
        model.load_state_dict(state)
    elif ck is None:
        loaded = _load_base(base, config)
        loaded.apply_to(model)
        base_info = {"path": str(loaded.path), "training": loaded.meta.get("training"),
                     "training_data": loaded.meta.get("training_data")}
    else:
        learnt = ck["info"].get("defects") or {}
        if (learnt.get("sha256"), learnt.get("share")) != \
                ((record or {}).get("sha256"), (record or {}).get("share")):
            raise ValueError(f"checkpoint {ck_path} learnt from other annotated defects than "
                             "these; give the same defects again or delete it")
        model.load_state_dict(ck["model"])
        base_info = ck["info"]["base"]
        log.info("resuming after stage 2 from %s", ck_path)
    model = model.to(device)
    crop = preset.train_size[0] if tiles else 0

    def batches(stream: int):
        return good_batches(train_set.images, crop, preset.batch_size, settings.seed, stream)

    def stage(fn, stream: int):
        if found is None:
            return fn
        real = defect_batches(found, crop or tuple(preset.image_size), preset.batch_size,
                              settings.seed * 4 + stream)
        return partial(fn, defects=real, defect_share=defect_share)

    if ck is None:
        runner = _Stages(settings, progress, cancel)
        s2, s2_per_step = runner.run(2, stage(train_object_specific, 2), model, batches(2))
        s2_seconds = runner.elapsed()
        if ck_path is not None:
            _save_stage2(ck_path, model, preset, settings.seed,
                         {"steps": s2, "seconds": s2_seconds, "seconds_per_step": s2_per_step,
                          "base": base_info, "defects": record})
    else:
        info = ck["info"]
        s2, s2_seconds, s2_per_step = info["steps"], info["seconds"], info["seconds_per_step"]
        runner = _Stages(settings, progress, cancel, s2, s2_seconds)
    s3, _ = runner.run(3, stage(train_upsampling, 3), model, batches(3))
    seconds = runner.elapsed()
    model.eval()

    spec = InputSpec("tiles", train_set.scale, preset.overlap) if tiles else InputSpec()
    meta = {
        "model": "dsr", "dsr": config.to_dict(), "preset": preset.name,
        "preset_settings": preset.to_dict(), "channels": 3,
        "image_size": list(preset.image_size), "grayscale": train_set.grayscale,
        "input": spec.to_meta(),
        "training": {"steps": s2 + s3, "stage_steps": {"stage2": s2, "stage3": s3},
                     "seconds": round(seconds, 1), "seed": settings.seed,
                     "budget_minutes": settings.minutes, "resumed_after_stage2": ck is not None,
                     "base": base_info},
        "training_data": {"source": str(data) if not isinstance(data, list) else "list",
                          "train_images": len(train_set), "holdout_images": len(val_paths),
                          "skipped": len(train_set.skipped),
                          "fingerprint": _fingerprint(train_set.paths)},
    }
    if record is not None:
        meta["training_data"]["defects"] = record
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    skipped = calibrate_on_holdout(model, meta, train_set, val_set, false_reject, settings.device)
    if found is not None:
        skipped = list(skipped) + [(p, f"annotated defect: {why}") for p, why in found.skipped]
    bundle = save_bundle(out, state, meta)
    return PipelineResult(Path(bundle), meta, skipped, s2 + s3, seconds, s2_per_step)
