"""DSR's three training stages as plain functions: model, batches, steps, optimiser, seed.

DSR (Zavrtanik, Kristan, Skočaj, ECCV 2022) trains its networks in three separate stages, each
with the networks of the earlier stages fixed:

1. :func:`train_general_appearance`: the VQ-VAE (both encoders, both codebooks by moving
   averages, the general appearance decoder) on a stream of general images (the paper uses
   ImageNet; here any iterable of float image batches) with ``vq_vae_loss``.
2. :func:`train_object_specific`: VQ-VAE fixed (eval mode, codebooks never updated); the two
   subspace restriction modules, the object-specific decoder and the anomaly detection module
   learn on good images of one part, with anomalies made in *feature* space
   (core/model/dsr/anomaly.py) inside Perlin masks drawn here (core/synth/perlin.py) and
   ``object_stage_loss``.
3. :func:`train_upsampling`: everything but the upsampling module fixed; it learns on
   *image-space* anomalies (:func:`image_anomalies`) with ``upsampling_loss``.

The supervised extension (the paper's, for when a few annotated real defects exist): stages 2
and 3 take ``defects``, an iterable of (images [B, C, H, W], masks [B, 1, H, W]) batches (e.g.
core/training/defect_samples.defect_batches), and ``defect_share``: that share of each batch's
samples is replaced by real defects, whose masks are the targets. The official repository has
no code for it and the paper gives no batch recipe, so the details are this project's choice:
real defects train the parts that *detect* (the anomaly detection module in stage 2, the upsampler in stage 3),
never the restoration. In stage 2 a real defect goes through the fixed VQ-VAE unchanged (no
feature-space anomaly on top), its mask at the fine latent grid is the detector's target, and
it adds nothing to the restoration and reconstruction losses (no good counterpart exists); in
stage 3 its full-resolution mask is the target. Without ``defects`` a stage is bit-identical to
one without the extension (same seed, same losses). An annotated image used here must never be
counted in an evaluation of the model (see core/training/defect_samples.py).

Each stage takes ``batches``: an iterable of float tensors [B, C, H, W] in [0, 1] (moved to the
model's device here); it stops after ``steps`` steps, when ``cancel()`` answers true (checked
before every step; the result says ``cancelled``) or when the batches run out. ``progress(step,
loss)`` is called after every step (step counts from 1). All randomness of the stage (masks,
λ_s, levels, colours) comes from the ``torch.Generator`` passed in, so a seed and the same
batches reproduce a run. Nothing is downloaded; everything runs on a CPU.

Optimisers, as the official code (train_dsr.py, run with ``--lr 0.0002 --bs 8 --epochs 100``):
Adam at 2e-4 in stages 2 and 3; stage 2 divides the rate by 10 at 80 % of its epochs; stage 3
runs half as many epochs, with milestones at 80 % and 90 % (x0.2) of the *full* epoch count, so
its rate never actually decays there. Here the milestones are fractions of each stage's own
``steps`` and stage 3's decay does happen (the evident intent). The official repository has no
stage-1 script (it ships a VQ-VAE trained on ImageNet), so stage 1's Adam at 2e-4 without decay
is this project's choice, not a documented one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.model.dsr.anomaly import (
    choose_levels, drop_anomalies, feature_mask, sample_similarity_bound, two_level_anomalies,
)
from core.model.dsr.losses import mask_focal_loss, object_stage_loss, upsampling_loss, vq_vae_loss
from core.model.dsr.model import DsrModel
from core.synth.perlin import perlin_mask
from core.training.defect_samples import DefectBatches, DefectFeed, DefectsRanOut, mix_in

__all__ = [
    "StageOptimiser", "StageResult", "ProgressFn", "CancelFn", "FitFn", "ReportFn",
    "NORMAL_SHARE", "MAX_OPACITY", "DEFECT_SHARE",
    "perlin_masks", "image_anomalies", "train_general_appearance", "train_object_specific",
    "train_upsampling",
]

ProgressFn = Callable[[int, float], None]
CancelFn = Callable[[], bool]
FitFn = Callable[[int, int], int]
ReportFn = Callable[[int, float, dict[str, float], float], None]

NORMAL_SHARE = 0.5
"""Share of each batch left free of anomalies in stages 2 and 3 (the official datasets')."""
MAX_OPACITY = 0.8
"""Stage 3's anomalies keep up to this share of the image under the pasted colour."""
DEFECT_SHARE = 0.25
"""Share of each batch given to real defects when there are some (this project's choice:
with half the batch normal, about half the anomalous samples are then real)."""


@dataclass(frozen=True)
class StageOptimiser:
    """Adam with a step-wise learning-rate decay: ``lr`` times ``gamma`` at each milestone.

    ``milestones`` are fractions of the stage's steps (0.8: after 80 % of them).
    """

    lr: float = 2e-4
    milestones: tuple[float, ...] = ()
    gamma: float = 0.1
    betas: tuple[float, float] = (0.9, 0.999)

    def __post_init__(self) -> None:
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"learning rate must be positive, got {self.lr}")
        if any(not 0.0 < m <= 1.0 for m in self.milestones):
            raise ValueError(f"milestones are fractions of the steps in (0, 1], got {self.milestones}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")

    @classmethod
    def general_appearance(cls) -> "StageOptimiser":
        """Stage 1: Adam 2e-4, constant (no official script; this project's choice)."""
        return cls()

    @classmethod
    def object_specific(cls) -> "StageOptimiser":
        """Stage 2, official: Adam 2e-4, x0.1 after 80 % of training."""
        return cls(milestones=(0.8,), gamma=0.1)

    @classmethod
    def upsampling(cls) -> "StageOptimiser":
        """Stage 3, official milestones (x0.2 at 80 % and 90 %), applied to its own steps."""
        return cls(milestones=(0.8, 0.9), gamma=0.2)

    def build(self, params: Iterable[nn.Parameter], steps: int
              ) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LRScheduler]:
        """The optimiser and a scheduler to step once per training step."""
        opt = torch.optim.Adam(params, lr=self.lr, betas=self.betas)
        return opt, torch.optim.lr_scheduler.MultiStepLR(opt, self._marks(steps), gamma=self.gamma)

    def _marks(self, steps: int) -> list[int]:
        return sorted({max(1, int(m * steps)) for m in self.milestones})

    def lr_at(self, done: int, steps: int) -> float:
        """The rate of the step after ``done`` steps of ``steps`` (what ``build``'s scheduler
        gives; a stage whose step count is refitted mid-run asks this every step)."""
        return self.lr * self.gamma ** sum(1 for mark in self._marks(steps) if done >= mark)


@dataclass
class StageResult:
    """What a stage did: steps run, the loss of each, its parts at the last step, why it ended."""

    steps: int = 0
    losses: list[float] = field(default_factory=list)
    parts: dict[str, float] = field(default_factory=dict)
    cancelled: bool = False
    exhausted: bool = False  # the batches ran out before ``steps``


def _numpy_rng(generator: torch.Generator) -> np.random.Generator:
    """A numpy generator seeded from the torch one (core/synth draws with numpy)."""
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator, device=generator.device))
    return np.random.default_rng(seed)


def perlin_masks(batch: int, size: tuple[int, int], rng: np.random.Generator,
                 device: torch.device | str = "cpu") -> torch.Tensor:
    """DRÆM's thresholded Perlin masks, one per image: {0, 1} float [B, 1, H, W]."""
    masks = np.stack([perlin_mask(size, rng) for _ in range(batch)])[:, None]
    return torch.from_numpy(masks).to(device)


def _uniform(shape: tuple[int, ...], generator: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(shape, generator=generator, device=generator.device).to(like)


def image_anomalies(images: torch.Tensor, rng: np.random.Generator, generator: torch.Generator,
                    normal_share: float = NORMAL_SHARE, max_opacity: float = MAX_OPACITY
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """Stage 3's training input: (images with anomalies, their masks [B, 1, H, W]).

    As the official MVTecImageAnomTrainDataset: inside a Perlin mask the image is blended with
    one uniform random colour per image, ``(1 - β) colour + β image`` with β ~ U[0, 0.8); about
    ``normal_share`` of the images (and any whose mask came out empty) are left as they were,
    with an empty mask. (The official code also rotates 30 % of the images; augmenting the
    good images is the data layer's business, not this function's.)
    """
    b, c, h, w = images.shape
    masks, _ = drop_anomalies(perlin_masks(b, (h, w), rng, images.device), normal_share, generator)
    masks = masks.to(images)
    colour = _uniform((b, c, 1, 1), generator, images)
    beta = max_opacity * _uniform((b, 1, 1, 1), generator, images)
    pasted = (1.0 - beta) * colour + beta * images
    return masks * pasted + (1.0 - masks) * images, masks


def _freeze(*modules: nn.Module) -> None:
    for m in modules:
        m.eval().requires_grad_(False)


def _train(*modules: nn.Module) -> list[nn.Parameter]:
    for m in modules:
        m.train().requires_grad_(True)
    return [p for m in modules for p in m.parameters()]


def _run(step: Callable[[torch.Tensor], tuple[torch.Tensor, dict[str, float]]],
         params: list[nn.Parameter], batches: Iterable[torch.Tensor], steps: int,
         optimiser: StageOptimiser, device: torch.device, progress: ProgressFn | None,
         cancel: CancelFn | None, fit: FitFn | None = None,
         report: ReportFn | None = None) -> StageResult:
    """The loop shared by the stages: cancel check, forward/backward, Adam, schedule, report.

    ``fit(done, steps)``, after every step, returns the stage's step count from then on (a
    time budget refits it from the measured step time), so the milestones stay fractions of
    the steps actually run. ``report(done, loss, parts, lr)`` sees every step's loss parts.
    """
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    opt, _ = optimiser.build(params, steps)
    result = StageResult()
    stream = iter(batches)
    while result.steps < steps:
        if cancel is not None and cancel():
            result.cancelled = True
            break
        try:
            images = next(stream)
        except StopIteration:
            result.exhausted = True
            break
        images = torch.as_tensor(images).to(device=device, dtype=torch.float32)
        lr = optimiser.lr_at(result.steps, steps)
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        try:
            loss, parts = step(images)
        except DefectsRanOut:
            result.exhausted = True
            break
        if not torch.isfinite(loss):
            raise FloatingPointError(f"DSR stage loss is {float(loss)} at step {result.steps + 1}")
        loss.backward()
        opt.step()
        result.steps += 1
        result.losses.append(float(loss.detach()))
        result.parts = parts
        if fit is not None:
            steps = max(result.steps, int(fit(result.steps, steps)))
        if report is not None:
            report(result.steps, result.losses[-1], parts, lr)
        if progress is not None:
            progress(result.steps, result.losses[-1])
    return result


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def train_general_appearance(model: DsrModel, batches: Iterable[torch.Tensor], steps: int,
                             optimiser: StageOptimiser | None = None,
                             generator: torch.Generator | None = None,
                             progress: ProgressFn | None = None,
                             cancel: CancelFn | None = None) -> StageResult:
    """Stage 1: the VQ-VAE learns to reconstruct general images through its two codebooks.

    Encoders, pre-quantisation convolutions, the coarse-to-fine upsampling and the general
    decoder learn by Adam; the codebooks by their moving averages (train mode). The
    object-specific networks are neither run nor changed. ``generator`` is accepted for a
    uniform signature; this stage draws nothing (the codebooks start from the model's init).
    """
    del generator  # no randomness of its own
    vq = model.vqvae
    _freeze(model.restrict_fine, model.restrict_coarse, model.object_decoder, model.detector,
            model.upsampler)
    params = _train(vq)

    def step(images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        model.check_size(images)
        recon, commitment, _ = vq(images)
        return vq_vae_loss(recon, images, [commitment])

    return _run(step, params, batches, steps, optimiser or StageOptimiser.general_appearance(),
                _device(model), progress, cancel)


def train_object_specific(model: DsrModel, batches: Iterable[torch.Tensor], steps: int,
                          optimiser: StageOptimiser | None = None,
                          generator: torch.Generator | None = None,
                          progress: ProgressFn | None = None,
                          cancel: CancelFn | None = None,
                          normal_share: float = NORMAL_SHARE, defects: DefectBatches | None = None,
                          defect_share: float = DEFECT_SHARE, fit: FitFn | None = None,
                          report: ReportFn | None = None) -> StageResult:
    """Stage 2: restoration, object-specific decoding and detection on feature-space anomalies.

    Per batch of good images: a Perlin mask per image (emptied for ``normal_share`` of them);
    λ_s ~ U[0.2, 1) per image and level; the levels to perturb (both 1/2, coarse 1/4, fine 1/4);
    the anomalous quantised maps (``two_level_anomalies``). The restriction modules map them back
    to the good image's quantised maps (L2), the object decoder rebuilds the good image from the
    restored maps (L2 x 10), and the detector, fed both images detached as in the official
    code, learns the mask as the features saw it (focal). The VQ-VAE is fixed in eval mode and
    its codebooks are only read; the upsampling module is neither run nor changed. With
    ``defects``, ``defect_share`` of the samples are real defects (module docstring).
    """
    gen = torch.Generator().manual_seed(0) if generator is None else generator
    rng = _numpy_rng(gen)
    feed = None if defects is None else DefectFeed(defects, defect_share)
    vq = model.vqvae
    _freeze(vq, model.upsampler)
    params = _train(model.restrict_fine, model.restrict_coarse, model.object_decoder, model.detector)

    def step(images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        model.check_size(images)
        b = images.shape[0]
        real = feed.take(images, gen) if feed is not None else None
        n = b if real is None else b - real[0].shape[0]  # the synthetic samples
        with torch.no_grad():
            masks, _ = drop_anomalies(perlin_masks(b, tuple(images.shape[-2:]), rng, images.device),
                                      normal_share, gen)
            if real is not None:  # no feature-space anomaly on a real defect
                images, masks = mix_in(images, real[0]), mix_in(masks, torch.zeros_like(real[1]))
            q = vq.quantise(images, update=False)
            choice = choose_levels(b, gen, images.device)
            bound_lo = sample_similarity_bound(b, gen, device=images.device)
            bound_hi = sample_similarity_bound(b, gen, device=images.device)
            lo, hi, hi_good, truth = two_level_anomalies(
                q.z_coarse, q.q_coarse, vq.quant_coarse.embedding,
                partial(vq.fine_level, q.fine_features), vq.quant_fine.embedding,
                masks, choice, bound_lo, bound_hi, gen)
            general_image = vq.decode(hi, lo)
            if real is not None:  # the real mask as the fine latent grid sees it
                seen = feature_mask(real[1], tuple(hi.shape[-2:]))
                truth = mix_in(truth, F.interpolate(seen, size=truth.shape[-2:], mode="nearest"))
        feat_hi, rest_hi, _ = model.restrict_fine(hi, vq.quant_fine)
        feat_lo, rest_lo, _ = model.restrict_coarse(lo, vq.quant_coarse)
        object_image = model.object_decoder(vq.join(rest_hi, rest_lo))
        seg = model.detector(object_image.detach(), general_image)
        if n == 0:  # real defects only: nothing to restore towards
            focal = mask_focal_loss(seg, truth)
            return focal, {"focal": float(focal.detach()), "l2_image": 0.0, "l2_features": 0.0}
        return object_stage_loss(images[:n], object_image[:n], seg, truth,
                                 (feat_hi[:n], feat_lo[:n]), (hi_good[:n], q.q_coarse[:n]))

    return _run(step, params, batches, steps, optimiser or StageOptimiser.object_specific(),
                _device(model), progress, cancel, fit, report)


def train_upsampling(model: DsrModel, batches: Iterable[torch.Tensor], steps: int,
                     optimiser: StageOptimiser | None = None,
                     generator: torch.Generator | None = None,
                     progress: ProgressFn | None = None,
                     cancel: CancelFn | None = None,
                     normal_share: float = NORMAL_SHARE, defects: DefectBatches | None = None,
                     defect_share: float = DEFECT_SHARE, fit: FitFn | None = None,
                     report: ReportFn | None = None) -> StageResult:
    """Stage 3: the upsampling module learns the full-resolution mask of image-space anomalies.

    Every other network is fixed in eval mode and run without gradients, exactly as at
    inference (``DsrModel.stages``); only the upsampler's input (both reconstructions and the
    detector's softmax) gets a gradient path into the upsampler.

    The official ``train_upsampling_module(..., epochs, anom_par)`` has an ``anom_par``
    parameter (the λ_s lower bound, used only in the run's name) that its caller never passes,
    so the official script stops with a TypeError after stage 2 and never trains this module
    as published. Here there is no such parameter: stage 3's anomalies are made in image space
    (:func:`image_anomalies`) and need no similarity bound. With ``defects``,
    ``defect_share`` of the samples are real defects with their full-resolution masks.
    """
    gen = torch.Generator().manual_seed(0) if generator is None else generator
    rng = _numpy_rng(gen)
    feed = None if defects is None else DefectFeed(defects, defect_share)
    vq = model.vqvae
    _freeze(vq, model.restrict_fine, model.restrict_coarse, model.object_decoder, model.detector)
    params = _train(model.upsampler)

    def step(images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        model.check_size(images)
        with torch.no_grad():
            anomalous, masks = image_anomalies(images, rng, gen, normal_share)
            real = feed.take(images, gen) if feed is not None else None
            if real is not None:
                anomalous, masks = mix_in(anomalous, real[0]), mix_in(masks, real[1])
            q = vq.quantise(anomalous, update=False)
            _, _, object_image = model.restore(q.q_fine, q.q_coarse)
            general_image = vq.decode(q.q_fine, q.q_coarse)
            coarse = model.detector(object_image, general_image).softmax(dim=1)
        logits = model.upsampler(object_image, general_image, coarse)
        return upsampling_loss(logits, masks)

    return _run(step, params, batches, steps, optimiser or StageOptimiser.upsampling(),
                _device(model), progress, cancel, fit, report)
