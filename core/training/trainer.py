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
from torch.utils.data import Dataset

from core.device import configure_cpu_threads, select_device
from core.model.draem import DraemModel
from core.model.losses import draem_loss
from core.training.data import SynthDataset, make_loader
from core.training.checkpoint import CheckpointError, open_checkpoint
from core.training.presets import Preset
from core.training.schedule import BudgetPlanner, lr_factor

log = logging.getLogger(__name__)


class TrainingCancelled(Exception):
    """Raised when the cancel event was set; the last checkpoint stays on disk."""


@dataclass
class Progress:
    step: int
    total: int | None               # None while a budgeted run's step time is not yet known
    losses: dict[str, float]
    lr: float
    elapsed_s: float
    eta_s: float | None
    images_per_s: float
    separability: dict | None = None  # the latest probe (see core.training.separability)
    stage: int | None = None          # DSR: the training stage (2 or 3); DRÆM: None


@dataclass
class TrainOutcome:
    model: DraemModel
    steps: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    resumed_from: int = 0
    seconds_per_step: float = 0.0
    separability: dict | None = None  # the probe of the final model
    started_from: dict | None = None  # the warm start's description, if any


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
    init_from: str | Path | None = None   # warm start from this bundle (e.g. "continue training")
    use_base: bool = True                 # else from the preset's base model, if it names one
    clock: Callable[[], float] = time.monotonic   # tests pass a fake clock
    deterministic: bool = False   # CUDA: deterministic kernels (slower); the CPU always is


CPU_CHANNELS_LAST_MAX_WIDTH = 32
LOADER_HORIZON = 10**8     # steps the loader is asked for while the total is unknown (None)


def default_workers(cuda: bool, cores: int | None = None) -> int:
    """Data-loader processes: on a GPU enough to keep it busy (6-8 measured on one H200 with
    16 cores: the paper step is GPU-bound there), one core left for the training loop; on a
    CPU one, since every core it takes is a core the step does not get."""
    if not cuda:
        return 1
    n = cores if cores is not None else (os.cpu_count() or 1)
    return max(1, min(8, n - 1))


def memory_format_for(recon_width: int, cuda: bool) -> torch.memory_format:
    """channels_last on CUDA, and on a CPU for narrow networks only. A training step at batch
    8 on the 2-core CPU (bench/train_profile.py, NCHW vs channels_last): widths 16/8 3.95 vs
    2.67 s, 32/16 10.6 vs 9.7 s, 64/32 33.9 vs 40.5 s, 128/64 121 vs 152 s: oneDNN's
    channels_last convolution backward loses at the wide layers."""
    if cuda or recon_width <= CPU_CHANNELS_LAST_MAX_WIDTH:
        return torch.channels_last
    return torch.contiguous_format


def _save_checkpoint(path: Path, model, opt, step: int, total: int | None, settings: TrainSettings,
                     history: list[dict], elapsed: float, ema=None, started_from: dict | None = None) -> None:
    from core.atomic import atomic_open

    with atomic_open(path, "wb") as fh:
        torch.save({
            "model": model.state_dict(), "optimizer": opt.state_dict(), "step": step, "total": total,
            "preset": json.dumps(settings.preset.to_dict()), "seed": settings.seed,
            "history": json.dumps(history[-2000:]), "elapsed": elapsed,
            "ema": ema.state_dict() if ema is not None else None,
            "started_from": json.dumps(started_from),
        }, fh)


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


def _cuda_determinism(on: bool) -> None:
    """cuDNN autotuning (fast, but its choice and atomics differ from run to run) or torch's
    deterministic algorithms (the same losses run after run, where torch allows it)."""
    if on:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # needed by deterministic cuBLAS
        torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic = on
    torch.backends.cudnn.benchmark = not on


def _averaged(model: torch.nn.Module, decay: float):
    """The exponential moving average of the weights and BatchNorm statistics (torch's own)."""
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    return AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def _warm_start(model: DraemModel, settings: TrainSettings) -> dict | None:
    source = settings.init_from or (settings.preset.base if settings.use_base else None)
    if source is None:
        return None
    from core.training import warmstart

    state, meta = warmstart.initial_weights(source, settings.preset.recon_width, settings.preset.disc_width)
    model.load_state_dict(state)
    log.info("warm start from %s", source)
    return warmstart.describe(meta, warmstart.resolve(source))


def train(images, simulator, settings: TrainSettings,
          progress: Callable[[Progress], None] | None = None,
          cancel: threading.Event | None = None,
          preview: Callable[[int, dict], None] | None = None, preview_every_s: float = 10.0,
          preview_image: np.ndarray | None = None,
          probe: Callable[[torch.nn.Module], dict] | None = None, probes: int = 5,
          on_step: Callable[[int, float, torch.nn.Module], None] | None = None) -> TrainOutcome:
    """Train DRAEM on pre-decoded good images: (N, H, W, 3) uint8 at the preset's size, or in
    tiles mode a list of images of any size, sampled by crops of ``preset.crop``.

    ``preview(step, sample)`` receives, every ``preview_every_s`` seconds, the first sample
    of the current batch as numpy arrays: ``image``, ``augmented`` (HxWx3 float),
    ``mask``, ``reconstruction`` and ``anomaly_map`` (HxW), for a live view of training.
    ``probe(model)`` (see :mod:`core.training.separability`) is called ``probes`` times along
    the run and once at its end, on the model that will be saved; its result goes into the
    progress reports, the history and the outcome. ``on_step(step, elapsed_s, model)`` is
    called after every step with the model that would be saved (benchmarks evaluate it).
    """
    preset = settings.preset
    clock = settings.clock
    device = select_device(settings.device)
    cuda = device.type == "cuda"
    if not cuda:
        configure_cpu_threads(settings.threads)
    torch.manual_seed(settings.seed)
    np.random.seed(settings.seed % 2**32)

    fmt = memory_format_for(preset.recon_width, cuda)
    model = DraemModel(preset.recon_width, preset.disc_width)
    started_from = None
    ck_path = settings.checkpoint
    ck, note = open_checkpoint(ck_path, settings.resume)
    if note:
        log.warning("%s", note)
    resuming = ck is not None
    if not resuming:
        started_from = _warm_start(model, settings)
    model = model.to(device).to(memory_format=fmt)
    if cuda:
        _cuda_determinism(settings.deterministic)
    opt = torch.optim.Adam(model.parameters(), lr=preset.lr)
    scaler = torch.amp.GradScaler("cuda", enabled=cuda)
    ema = _averaged(model, preset.ema) if preset.ema else None

    planned = settings.steps or preset.total_steps(len(images))
    total: int | None = planned  # None while a budgeted run's step time is not yet known
    start, history, prior_elapsed = 0, [], 0.0
    if resuming:
        if ck["preset"] != preset or ck["seed"] != settings.seed:
            raise ValueError(f"checkpoint {ck_path} belongs to another run "
                             f"(preset {ck['preset'].name}, seed {ck['seed']}); delete it or change --out")
        try:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["optimizer"])
            if ema is not None and ck.get("ema") is not None:
                ema.load_state_dict(ck["ema"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"checkpoint {ck_path} cannot be used (its weights do not fit "
                                  f"preset {preset.name}: {str(exc).splitlines()[0][:120]}); "
                                  f"delete it or change --out") from None
        start, total, history, prior_elapsed = ck["step"], ck["total"], ck["history"], ck["elapsed"]
        started_from = ck["started_from"]
        log.info("resuming from step %d of %s (%s)", start, "?" if total is None else total, ck_path)

    planner = None
    budget_s = (settings.minutes or 0) * 60.0
    if settings.minutes:
        planner = BudgetPlanner(budget_s - prior_elapsed, start_step=start, clock=clock)
        total = None  # until step times are measured
    elif total is None:  # a budgeted run's checkpoint resumed without a budget
        total = planned
    workers = settings.workers if settings.workers is not None else default_workers(cuda)
    crop = preset.train_size[0] if preset.input_mode == "tiles" else 0
    dataset = images if isinstance(images, Dataset) else SynthDataset(
        images, simulator, settings.seed, crop, preset.crop_reach, preset.tile_share, preset.overlap)
    loader = make_loader(dataset, preset.batch_size, start,
                         LOADER_HORIZON if total is None else total, workers, pin_memory=cuda)

    validation = None
    if preview is not None and preview_image is not None:  # (H, W, 3) uint8, a held-out good image
        validation = torch.from_numpy(preview_image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)
        validation = validation.to(device).contiguous(memory_format=fmt)
    final = (lambda: ema.module) if ema is not None else (lambda: model)  # noqa: E731
    separability = None

    def run_probe(step: int) -> None:
        nonlocal separability
        net = final()
        net.eval()
        try:
            separability = {"step": step, **probe(net)}
        finally:
            net.train()
        history.append({"step": step, "separability": separability})

    model.train()
    t0 = clock()
    last_ck = last_preview = t0
    step = start
    next_probe = 1
    try:
        for batch in loader:
            if cancel is not None and cancel.is_set():
                raise TrainingCancelled(f"cancelled at step {step}"
                                        + ("" if total is None else f" of {total}"))
            if planner is not None:  # schedule over the fraction of the budget's time
                frac = (prior_elapsed + clock() - t0) / budget_s
            else:
                frac = step / max(1, total)
            lr = preset.lr * lr_factor(frac, preset.schedule, preset.warmup, preset.milestones, preset.gamma)
            for g in opt.param_groups:
                g["lr"] = lr
            x = batch["augmented"].to(device, non_blocking=True)
            target = batch["image"].to(device, non_blocking=True)
            mask = batch["mask"].to(device, non_blocking=True)
            x = x.contiguous(memory_format=fmt)
            with torch.autocast(device.type, dtype=torch.float16, enabled=cuda):
                rec, logits = model(x)
            loss, parts = draem_loss(rec.float(), target, logits.float(), mask, preset.focal_alpha)
            loss_value = float(loss.detach())
            if not np.isfinite(loss_value):
                raise FloatingPointError(f"training diverged: loss became {loss_value} at step {step}")
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            if ema is not None:
                ema.update_parameters(model)
            step += 1

            now = clock()
            elapsed = now - t0
            if planner is not None:
                total = step if planner.expired() else planner.total(step, total)
            history.append({"step": step, "loss": loss_value, **parts, "lr": lr})
            if probe is not None and probes and total is not None and step < total \
                    and step >= start + 2 and step / total >= next_probe / (probes + 1):
                next_probe = int(step / total * (probes + 1)) + 1
                run_probe(step)
            if progress is not None and (step % settings.log_every == 0 or total is not None and step >= total):
                done = step - start
                rate = max(elapsed, 1e-9) / done
                eta = None if total is None else rate * (total - step)
                progress(Progress(step, total,
                                  {"loss": loss_value, **parts}, lr, prior_elapsed + elapsed,
                                  eta, preset.batch_size / rate, separability))
            if preview is not None and (now - last_preview >= preview_every_s or step == start + 1):
                last_preview = now
                preview(step, _preview_sample(batch, rec, logits, model, validation))
            if on_step is not None:
                on_step(step, prior_elapsed + elapsed, final())
            if ck_path and now - last_ck >= settings.checkpoint_every_s and (total is None or step < total):
                _save_checkpoint(ck_path, model, opt, step, total, settings, history,
                                 prior_elapsed + elapsed, ema, started_from)
                last_ck = now
            if total is not None and step >= total:
                break
    except (KeyboardInterrupt, TrainingCancelled):
        if ck_path and step > start:
            _save_checkpoint(ck_path, model, opt, step, total, settings, history,
                             prior_elapsed + clock() - t0, ema, started_from)
        raise
    finally:
        del loader
    seconds = clock() - t0
    if probe is not None:
        run_probe(step)
    net = final().eval()
    done = max(1, step - start)
    return TrainOutcome(net, step, prior_elapsed + seconds, history, start, seconds / done,
                        separability, started_from)
