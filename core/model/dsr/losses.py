"""The losses of DSR's three training stages.

1. **General appearance (the VQ-VAE).** L2 between the image and the general decoder's
   reconstruction, plus each quantiser's commitment loss (β‖z − sg(q)‖², the quantiser
   computes it; its codebook learns by moving averages, so there is no codebook term).
2. **Object-specific decoder and anomaly detection module**, trained together on features
   with generated anomalies (core/model/dsr/anomaly.py): the subspace restriction modules
   learn to give back the good image's features (L2 per level), the object-specific decoder
   to reconstruct the *good* image from the anomalous features (L2, weight 10 as in the
   official code), and the detection module the anomaly mask (focal loss on its softmax).
3. **Upsampling module**: focal loss of its refined mask against the mask at full resolution.

The focal loss is DRÆM's (core/model/losses.py): the official DSR code uses the same one
(γ = 2, label smoothing 1e-5, no class weights, mean over pixels).
Each function returns (total, parts) where parts are floats for logging, like ``draem_loss``.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
import torch.nn.functional as F

from core.model.losses import focal_loss

__all__ = ["IMAGE_WEIGHT", "mask_focal_loss", "vq_vae_loss", "object_stage_loss",
           "upsampling_loss"]

IMAGE_WEIGHT = 10.0
"""Weight of the object-specific image reconstruction in stage 2 (the official code's)."""


def mask_focal_loss(logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Focal loss of two-class logits [B, 2, H, W] against a {0, 1} mask [B, 1, H, W]."""
    if logits.dim() != 4 or logits.shape[1] != 2:
        raise ValueError(f"logits must be [B, 2, H, W], got {tuple(logits.shape)}")
    want = (logits.shape[0], 1, *logits.shape[-2:])
    if tuple(mask.shape) != want:
        raise ValueError(f"mask must be {want} to match the logits, got {tuple(mask.shape)}")
    return focal_loss(torch.softmax(logits.float(), dim=1), mask)


def vq_vae_loss(recon: torch.Tensor, image: torch.Tensor,
                commitment: Iterable[torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage 1: L2(recon, image) + the sum of the quantisers' commitment losses."""
    if recon.shape != image.shape:
        raise ValueError(f"reconstruction {tuple(recon.shape)} != image {tuple(image.shape)}")
    l2 = F.mse_loss(recon, image)
    commit = sum(commitment, torch.zeros((), device=recon.device, dtype=l2.dtype))
    total = l2 + commit
    return total, {"l2": float(l2.detach()), "commitment": float(commit.detach())}


def object_stage_loss(image: torch.Tensor, recon: torch.Tensor, seg_logits: torch.Tensor,
                      mask: torch.Tensor, restored: Sequence[torch.Tensor] = (),
                      targets: Sequence[torch.Tensor] = (), image_weight: float = IMAGE_WEIGHT
                      ) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage 2: focal(mask) + image_weight · L2(image, recon) + Σ L2(restored_i, targets_i).

    ``image`` is the good image, ``recon`` the object-specific decoder's output from the
    anomalous features; ``seg_logits`` [B, 2, H, W] the detection module's output, ``mask``
    the ground truth as the features saw it (anomaly.target_mask); ``restored``/``targets``
    the subspace restriction modules' outputs and the good image's quantised features, one
    pair per level (the targets are detached: they are what to reach, not what to move).
    """
    if recon.shape != image.shape:
        raise ValueError(f"reconstruction {tuple(recon.shape)} != image {tuple(image.shape)}")
    if len(restored) != len(targets):
        raise ValueError(f"{len(restored)} restored feature maps for {len(targets)} targets")
    focal = mask_focal_loss(seg_logits, mask)
    l2_image = F.mse_loss(recon, image)
    feats = torch.zeros((), device=recon.device, dtype=l2_image.dtype)
    for got, want in zip(restored, targets):
        if got.shape != want.shape:
            raise ValueError(f"restored features {tuple(got.shape)} != target {tuple(want.shape)}")
        feats = feats + F.mse_loss(got, want.detach())
    total = focal + image_weight * l2_image + feats
    return total, {"focal": float(focal.detach()), "l2_image": float(l2_image.detach()),
                   "l2_features": float(feats.detach())}


def upsampling_loss(logits: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Stage 3: focal loss of the upsampling module's logits against the full-resolution mask."""
    focal = mask_focal_loss(logits, mask)
    return focal, {"focal": float(focal.detach())}
