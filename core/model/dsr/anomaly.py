"""DSR's feature-space anomaly generation: near-but-not-too-near codes pasted into a mask.

DSR (Zavrtanik, Kristan, Skočaj, ECCV 2022) does not paste textures into the image as DRÆM
does. It takes the quantised feature map of a good image and, inside an anomaly mask,
replaces each code by another codebook entry chosen at random among the codes that are
*similar* to it, but not *too* similar:

* the K codes are ranked by squared Euclidean distance to the feature vector (rank 0 is the
  nearest: the code the quantiser picked);
* the nearest ``near_share`` of the codebook (5 %, as in the official code) is skipped, so
  the replacement really changes the appearance;
* the similarity bound λ_s ∈ [0, 1] caps how far the replacement may be: it is drawn
  uniformly from the ``floor(λ_s · K) + 1`` nearest codes (minus the skipped ones).
  λ_s = 1 allows any code beyond the skipped ones; λ_s = 0 (or any λ_s too small to leave a
  candidate) gives exactly the first code past the skipped ones. During training λ_s is
  drawn per image from U[0.2, 1) (the official ``anom_par`` = 0.2).

So rank r is a candidate when ``skip <= r < top`` with ``skip = max(1, floor(0.05 K))`` and
``top = clamp(floor(λ_s K) + 1, skip + 1, K)`` (see :func:`rank_bounds`). Two deliberate
departures from the official code, both only at the edges: ``skip`` is at least 1, so with a
small codebook (K < 20, the tests' and CPU configurations' sizes) a replacement never equals
the pixel's own code; and at λ_s = 1 the farthest code is a candidate too (the official cap
``K - 1`` left it out).

The mask, drawn with Perlin noise at image resolution as for DRÆM (core/synth/perlin.py, in
the training layer above this one), is brought to each feature resolution by max pooling: a
feature cell is anomalous when any of its pixels is. A share of the batch (half, as the paper
trains) gets no anomaly at all: :func:`drop_anomalies`. DSR perturbs one or both of its two
quantisation levels per image: :func:`choose_levels`, :func:`two_level_anomalies`.

All randomness comes from the ``torch.Generator`` passed in, so a seed reproduces a batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F

__all__ = [
    "NEAR_SHARE", "MIN_SIMILARITY_BOUND", "FeatureAnomaly", "LevelChoice", "rank_bounds",
    "sample_similarity_bound", "feature_mask", "replace_with_near_codes", "drop_anomalies",
    "choose_levels", "target_mask", "two_level_anomalies",
]

NEAR_SHARE = 0.05
"""Share of the codebook nearest to a feature that is never used as its replacement."""
MIN_SIMILARITY_BOUND = 0.2
"""Lower end of the training range of λ_s (the official code's ``anom_par``)."""


class FeatureAnomaly(NamedTuple):
    """``features``: the map with replaced vectors [B, C, H, W]; ``codes``: the codebook index
    of each replacement [B, H, W], -1 where the map was left as it was."""

    features: torch.Tensor
    codes: torch.Tensor


def _rand(shape: tuple[int, ...], generator: torch.Generator | None,
          device: torch.device) -> torch.Tensor:
    """U[0, 1) drawn on the generator's device (so a CPU seed is the same on any device)."""
    gen_device = generator.device if generator is not None else device
    return torch.rand(shape, generator=generator, device=gen_device).to(device)


def rank_bounds(codebook_size: int, similarity_bound: torch.Tensor | float,
                near_share: float = NEAR_SHARE) -> tuple[torch.Tensor, torch.Tensor]:
    """Candidate distance ranks ``[skip, top)`` for each λ_s (ranks count from 0, nearest first).

    ``skip = max(1, floor(near_share * K))``; ``top = clamp(floor(λ_s * K) + 1, skip + 1, K)``,
    so there is always at least one candidate and never the pixel's own (nearest) code.
    For the paper's K = 4096: λ_s = 0.2 gives ranks [204, 820), λ_s = 1 gives [204, 4096).
    """
    k = int(codebook_size)
    if k < 2:
        raise ValueError(f"need a codebook of at least 2 codes to replace one, got {k}")
    if not 0.0 <= near_share < 1.0:
        raise ValueError(f"near_share must be in [0, 1), got {near_share}")
    lam = torch.as_tensor(similarity_bound, dtype=torch.float64)
    if lam.numel() and (bool((lam < 0).any()) or bool((lam > 1).any()) or bool(lam.isnan().any())):
        raise ValueError(f"the similarity bound λ_s must lie in [0, 1], got {similarity_bound}")
    skip = min(max(1, math.floor(near_share * k)), k - 1)
    top = (torch.floor(lam * k).long() + 1).clamp(min=skip + 1, max=k)
    return torch.full_like(top, skip), top


def sample_similarity_bound(batch: int, generator: torch.Generator | None = None,
                            low: float = MIN_SIMILARITY_BOUND, high: float = 1.0,
                            device: torch.device | str = "cpu") -> torch.Tensor:
    """One λ_s per image, uniform in [low, high): the training distribution ([0.2, 1))."""
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"need 0 <= low <= high <= 1, got low={low}, high={high}")
    return low + (high - low) * _rand((batch,), generator, torch.device(device))


def feature_mask(mask: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A {0, 1} mask [B, 1, H, W] brought to ``size`` (h, w) by max pooling.

    A feature cell counts as anomalous when any pixel it covers does, as in the official code.
    Sizes that do not divide evenly use adaptive max pooling (overlapping cells).
    """
    if mask.dim() != 4 or mask.shape[1] != 1:
        raise ValueError(f"mask must be [B, 1, H, W], got {tuple(mask.shape)}")
    h, w = (int(v) for v in size)
    mh, mw = mask.shape[-2:]
    if (mh, mw) == (h, w):
        return mask.float()
    if mh % h == 0 and mw % w == 0:
        return F.max_pool2d(mask.float(), (mh // h, mw // w))
    return F.adaptive_max_pool2d(mask.float(), (h, w))


def replace_with_near_codes(quantised: torch.Tensor, codebook: torch.Tensor, mask: torch.Tensor,
                            similarity_bound: torch.Tensor | float,
                            generator: torch.Generator | None = None,
                            features: torch.Tensor | None = None,
                            near_share: float = NEAR_SHARE, chunk: int = 4096) -> FeatureAnomaly:
    """Replace the vectors of ``quantised`` [B, C, H, W] inside ``mask`` by near codebook entries.

    ``codebook`` is [K, C]; ``mask`` is {0, 1}, [B, 1, h, w] at this resolution or a multiple
    of it (then max pooled); ``similarity_bound`` is λ_s, one per image ([B]) or one for all.
    Codes are ranked against ``features`` (default: ``quantised`` itself). The official code
    ranks against the encoder's output *before* quantisation; pass that to mirror it exactly.
    Outside the mask the output is ``quantised`` unchanged; inside it every vector is a
    codebook row. Only masked cells are ranked, ``chunk`` of them at a time, so memory stays
    at ``chunk x K`` distances whatever the batch.
    """
    if quantised.dim() != 4:
        raise ValueError(f"quantised must be [B, C, H, W], got {tuple(quantised.shape)}")
    b, c, h, w = quantised.shape
    if codebook.dim() != 2 or codebook.shape[1] != c:
        raise ValueError(f"codebook must be [K, {c}], got {tuple(codebook.shape)}")
    ref = quantised if features is None else features
    if ref.shape != quantised.shape:
        raise ValueError(f"features {tuple(ref.shape)} must match quantised {tuple(quantised.shape)}")
    lam = torch.as_tensor(similarity_bound, dtype=torch.float64).flatten()
    if lam.numel() == 1:
        lam = lam.expand(b)
    if lam.numel() != b:
        raise ValueError(f"need one similarity bound or one per image ({b}), got {lam.numel()}")
    k = codebook.shape[0]
    skip, top = rank_bounds(k, lam, near_share)
    cells = feature_mask(mask, (h, w))[:, 0] > 0.5  # [B, H, W]
    codes = torch.full((b, h, w), -1, dtype=torch.long, device=quantised.device)
    out = quantised.clone()
    where = cells.nonzero(as_tuple=False)  # [N, 3] rows (image, y, x), row-major order
    if where.shape[0] == 0:
        return FeatureAnomaly(out, codes)
    img = where[:, 0]
    lo, hi = skip.to(quantised.device)[img], top.to(quantised.device)[img]
    u = _rand((where.shape[0],), generator, quantised.device).double()
    rank = torch.minimum(lo + torch.floor(u * (hi - lo).double()).long(), hi - 1)
    book = codebook.detach().to(ref.dtype)
    book_sq = book.pow(2).sum(1)
    vectors = ref.detach().permute(0, 2, 3, 1)[cells]  # [N, C], same order as ``where``
    chosen = torch.empty(where.shape[0], dtype=torch.long, device=quantised.device)
    for start in range(0, vectors.shape[0], chunk):
        v = vectors[start:start + chunk]
        r = rank[start:start + chunk]
        dist = v.pow(2).sum(1, keepdim=True) - 2.0 * v @ book.t() + book_sq
        nearest = torch.topk(dist, int(r.max()) + 1, dim=1, largest=False, sorted=True).indices
        chosen[start:start + chunk] = nearest.gather(1, r[:, None])[:, 0]
    codes[cells] = chosen
    out.permute(0, 2, 3, 1)[cells] = codebook.detach().to(out.dtype)[chosen]
    return FeatureAnomaly(out, codes)


def drop_anomalies(mask: torch.Tensor, normal_share: float = 0.5,
                   generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Empty the masks of about ``normal_share`` of the images; returns (masks, kept [B] bool).

    The paper trains with half of each batch free of anomalies, so the detection module also
    sees good images and learns to answer "nothing" for them.
    """
    if not 0.0 <= normal_share <= 1.0:
        raise ValueError(f"normal_share must be in [0, 1], got {normal_share}")
    keep = _rand((mask.shape[0],), generator, mask.device) >= normal_share
    return mask * keep.view(-1, *([1] * (mask.dim() - 1))).to(mask.dtype), keep


@dataclass(frozen=True)
class LevelChoice:
    """Which quantisation levels get anomalies, per image ([B] bool; exactly one is true).

    ``both``: coarse (lo) and fine (hi); ``lo_only``; ``hi_only``. The official code draws
    "both" with probability 1/2, otherwise lo or hi with 1/2 each.
    """

    both: torch.Tensor
    lo_only: torch.Tensor
    hi_only: torch.Tensor

    @property
    def lo(self) -> torch.Tensor:
        """Images whose coarse features are perturbed."""
        return self.both | self.lo_only

    @property
    def hi(self) -> torch.Tensor:
        """Images whose fine features are perturbed."""
        return self.both | self.hi_only


def choose_levels(batch: int, generator: torch.Generator | None = None,
                  device: torch.device | str = "cpu") -> LevelChoice:
    """Draw the levels to perturb for each image: both 1/2, lo only 1/4, hi only 1/4."""
    u = _rand((2, batch), generator, torch.device(device))
    both = u[0] < 0.5
    lo_coin = u[1] < 0.5
    return LevelChoice(both=both, lo_only=~both & lo_coin, hi_only=~both & ~lo_coin)


def target_mask(mask: torch.Tensor, lo_size: tuple[int, int], hi_size: tuple[int, int],
                choice: LevelChoice) -> torch.Tensor:
    """The ground truth the detection module learns, at the mask's (image) resolution.

    The mask as the features saw it: max pooled to the level that was perturbed and blown back
    up cell by cell (nearest). Where the coarse level is perturbed (lo only, or both) its
    coarser cells are the truth, since they cover the fine cells; the fine cells otherwise.
    """
    size = tuple(mask.shape[-2:])

    def seen(at: tuple[int, int]) -> torch.Tensor:
        return F.interpolate(feature_mask(mask, at), size=size, mode="nearest")

    lo = choice.lo.view(-1, 1, 1, 1).to(mask.device)
    return torch.where(lo, seen(lo_size), seen(hi_size))


def two_level_anomalies(
        z_lo: torch.Tensor, q_lo: torch.Tensor, codebook_lo: torch.Tensor,
        hi_from_lo: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
        codebook_hi: torch.Tensor, mask: torch.Tensor, choice: LevelChoice,
        bound_lo: torch.Tensor | float, bound_hi: torch.Tensor | float,
        generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """DSR's training input: anomalous coarse and fine quantised maps for one batch.

    ``z_lo``/``q_lo``: the coarse level before/after quantisation; ``hi_from_lo(q)`` runs the
    VQ-VAE from a coarse quantised map to the fine level and returns (z_hi, q_hi) (upsampling,
    joining with the fine encoder's output, quantising). Codes are ranked against the
    pre-quantisation maps, as in the official code. Per image (``choice``):

    * both: coarse anomaly, the fine level recomputed from it, then a fine anomaly on top;
    * lo only: coarse anomaly, fine level of the good image;
    * hi only: coarse level of the good image, fine anomaly.

    Returns (anomalous q_lo, anomalous q_hi, good q_hi — the restoration target — and the
    ground-truth mask at ``mask``'s resolution, :func:`target_mask`).
    """
    anom_lo = replace_with_near_codes(q_lo, codebook_lo, mask, bound_lo, generator,
                                      features=z_lo).features
    z_hi_real, q_hi_real = hi_from_lo(q_lo)
    z_hi_anom, q_hi_anom = hi_from_lo(anom_lo)
    hi_on_anom = replace_with_near_codes(q_hi_anom, codebook_hi, mask, bound_hi, generator,
                                         features=z_hi_anom).features
    hi_on_real = replace_with_near_codes(q_hi_real, codebook_hi, mask, bound_hi, generator,
                                         features=z_hi_real).features

    def per_image(flags: torch.Tensor) -> torch.Tensor:
        return flags.view(-1, 1, 1, 1).to(q_lo.device)

    out_lo = torch.where(per_image(choice.lo), anom_lo, q_lo)
    out_hi = torch.where(per_image(choice.both), hi_on_anom,
                         torch.where(per_image(choice.hi_only), hi_on_real, q_hi_real))
    truth = target_mask(mask, tuple(q_lo.shape[-2:]), tuple(q_hi_real.shape[-2:]), choice)
    return out_lo.detach(), out_hi.detach(), q_hi_real.detach(), truth
