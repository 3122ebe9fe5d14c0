"""The DRAEM trainer: progress callback, cooperative cancel, checkpoints, resume, budget."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from core.device import configure_cpu_threads, select_device
from core.model.draem import DraemModel
from core.model.losses import draem_loss
from core.training.data import SynthDataset, make_loader
from core.training.presets import Preset, preset_from_dict
from core.training.schedule import BudgetPlanner, lr_at, lr_at_fraction

log = logging.getLogger(__name__)


class TrainingCancelled(Exception):
    """Raised when the cancel event was set; the last checkpoint stays on disk."""


@dataclass
class Progress:
    step: int
    total: int
    losses: dict[str, float]
    lr: float
    elapsed_s: float
    eta_s: float | None
    images_per_s: float


@dataclass
class TrainOutcome:
    model: DraemModel
    steps: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    resumed_from: int = 0
    seconds_per_step: float = 0.0


@dataclass
class TrainSettings:
    preset: Preset
    seed: int = 0
    device: str = "auto"
    minutes: float | None = None      # wall-clock budget; the schedule is fitted to it
    steps: int | None = None          # overrides the preset's step count
    workers: int | None = None        # data-loader processes (default: 1 on CPU, 4 on CUDA)
    threads: int | None = None        # torch intra-op threads on CPU
    checkpoint: Path | None = None    # where to save/resume; None disables
    checkpoint_every_s: float = 60.0
    resume: bool = True
    log_every: int = 1


CPU_CHANNELS_LAST_MAX_WIDTH = 32


def memory_format_for(recon_width: int, cuda: bool) -> torch.memory_format:
    """channels_last on CUDA, and on a CPU for narrow networks only. A training step at batch
    8 on the 2-core CPU (bench/train_profile.py, NCHW vs channels_last): widths 16/8 3.95 vs
    2.67 s, 32/16 10.6 vs 9.7 s, 64/32 33.9 vs 40.5 s, 128/64 121 vs 152 s: oneDNN's
    channels_last convolution backward loses at the wide layers."""
    if cuda or recon_width <= CPU_CHANNELS_LAST_MAX_WIDTH:
        return torch.channels_last
    return torch.contiguous_format


def _save_checkpoint(path: Path, model, opt, step: int, total: int, settings: TrainSettings,
                     history: list[dict], elapsed: float) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save({
        "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "total": total,
        "preset": json.dumps(settings.preset.to_dict()), "seed": settings.seed,
        "history": json.dumps(history[-2000:]), "elapsed": elapsed,
    }, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict:
    ck = torch.load(path, map_location="cpu", weights_only=True)
    ck["preset"] = preset_from_dict(json.loads(ck["preset"]))
    ck["history"] = json.loads(ck["history"])
    return ck


def _hwc(t: torch.Tensor) -> np.ndarray:
    return t[0].detach().float().cpu().permute(1, 2, 0).clamp(0, 1).numpy()


def _preview_sample(batch: dict, rec: torch.Tensor, logits: torch.Tensor, model: torch.nn.Module,
                    validation: torch.Tensor | None) -> dict:
    """The first synthetic sample of the batch and, when a held-out good image is given, the
    current model's reconstruction and M_o of it (eval mode, as inference will see it)."""
    sample = {"image": _hwc(batch["image"]), "augmented": _hwc(batch["augmented"]),
              "mask": batch["mask"][0, 0].numpy(), "reconstruction": _hwc(rec),
              "anomaly_map": torch.softmax(logits[:1].detach().float(), 1)[0, 1].cpu().numpy()}
    if validation is not None:
        model.eval()
        try:
            with torch.no_grad():
                v_rec, v_logits = model(validation)
        finally:
            model.train()
        sample.update({"val_image": _hwc(validation), "val_reconstruction": _hwc(v_rec),
                       "val_anomaly_map": torch.softmax(v_logits.float(), 1)[0, 1].cpu().numpy()})
    return sample


def train(images: np.ndarray, simulator, settings: TrainSettings,
          progress: Callable[[Progress], None] | None = None,
          cancel: threading.Event | None = None,
          preview: Callable[[int, dict], None] | None = None, preview_every_s: float = 10.0,
          preview_image: np.ndarray | None = None) -> TrainOutcome:
    """Train DRAEM on pre-decoded good images (N, H, W, 3 uint8 at the preset's size).

    ``preview(step, sample)`` receives, every ``preview_every_s`` seconds, the first sample
    of the current batch as numpy arrays: ``image``, ``augmented`` (HxWx3 float),
    ``mask``, ``reconstruction`` and ``anomaly_map`` (HxW), for a live view of training.
    """
    preset = settings.preset
    device = select_device(settings.device)
    cuda = device.type == "cuda"
    if not cuda:
        configure_cpu_threads(settings.threads)
    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed % 2**32)

    fmt = memory_format_for(preset.recon_width, cuda)
    model = DraemModel(preset.recon_width, preset.disc_width).to(device)
    model = model.to(memory_format=fmt)
    if cuda:
        torch.backends.cudnn.benchmark = True
    opt = torch.optim.Adam(model.parameters(), lr=preset.lr)
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)

    total = settings.steps or preset.total_steps(len(images))
    start, history, prior_elapsed = 0, [], 0.0
    ck_path = settings.checkpoint
    if ck_path and settings.resume and ck_path.exists():
        ck = load_checkpoint(ck_path)
        if ck["preset"] != preset or ck["seed"] != settings.seed:
            raise ValueError(f"checkpoint {ck_path} belongs to another run "
                             f"(preset {ck['preset'].name}, seed {ck['seed']}); delete it or change --out")
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["optimizer"])
        start, total, history, prior_elapsed = ck["step"], ck["total"], ck["history"], ck["elapsed"]
        log.info("resuming from step %d of %d (%s)", start, total, ck_path)

    planner = None
    budget_s = (settings.minutes or 0) * 60.0
    if settings.minutes:
        planner = BudgetPlanner(budget_s - prior_elapsed, start_step=start)
        total = 10**9  # unknown until step times are measured
    workers = settings.workers if settings.workers is not None else (4 if cuda else 1)
    loader = make_loader(SynthDataset(images, simulator, settings.seed), preset.batch_size, start,
                         total if total < 10**9 else 10**8, workers, pin_memory=cuda)

    validation = None
    if preview is not None and preview_image is not None:  # (H, W, 3) uint8, a held-out good image
        validation = torch.from_numpy(preview_image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)
        validation = validation.to(device).contiguous(memory_format=fmt)
    model.train()
    t0 = time.monotonic()
    last_ck = last_preview = t0
    step = start
    try:
        for batch in loader:
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled(f"cancelled at step {step} of {total}")
            if planner is not None:  # decays at 80% / 90% of the budget's time
                frac = (prior_elapsed + time.monotonic() - t0) / budget_s
                lr = lr_at_fraction(frac, preset.lr, preset.milestones, preset.gamma)
            else:
                lr = lr_at(step, total, preset.lr, preset.milestones, preset.gamma)
            for g in opt.param_groups:
                g["lr"] = lr
            x = batch["augmented"].to(device, non_blocking=True)
            target = batch["image"].to(device, non_blocking=True)
            mask = batch["mask"].to(device, non_blocking=True)
            x = x.contiguous(memory_format=fmt)
            with torch.autocast(device.type, dtype=torch.float16, enabled=cuda):
                rec, logits = model(x)
            loss, parts = draem_loss(rec.float(), target, logits.float(), mask)
            loss_value = float(loss.detach())
            if not np.isfinite(loss_value):
                raise FloatingPointError(f"training diverged: loss became {loss_value} at step {step}")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            step += 1

            now = time.monotonic()
            elapsed = now - t0
            if planner is not None:
                total = step if planner.expired() else planner.total(step, total)
            rec_entry = {"step": step, "loss": loss_value, **parts, "lr": lr}
            history.append(rec_entry)
            if progress is not None and (step % settings.log_every == 0 or step >= total):
                done = step - start
                rate = elapsed / done
                eta = rate * (total - step) if total < 10**9 else None
                progress(Progress(step, total, {"loss": loss_value, **parts}, lr, prior_elapsed + elapsed,
                                  eta, preset.batch_size / rate))
            if preview is not None and (now - last_preview >= preview_every_s or step == start + 1):
                last_preview = now
                preview(step, _preview_sample(batch, rec, logits, model, validation))
            if ck_path and now - last_ck >= settings.checkpoint_every_s and step < total:
                _save_checkpoint(ck_path, model, opt, step, total, settings, history, prior_elapsed + elapsed)
                last_ck = now
            if step >= total:
                break
    except (KeyboardInterrupt, TrainingCancelled):
        if ck_path and step > start:
            _save_checkpoint(ck_path, model, opt, step, total, settings, history,
                             prior_elapsed + time.monotonic() - t0)
        raise
    finally:
        del loader
    seconds = time.monotonic() - t0
    model.eval()
    done = max(1, step - start)
    return TrainOutcome(model, step, prior_elapsed + seconds, history, start, seconds / done)
