"""DSR as one module: the VQ-VAE, two subspace restrictions, the object decoder, two U-Nets.

Inference (the official test_dsr.py, written anew): quantise the image at both levels;
restore each level to normal appearance with its subspace restriction module; the
object-specific decoder rebuilds the image from the restored levels and the general decoder
from the original ones; the anomaly detection module compares the two images; the
upsampling module refines its map. ``forward`` returns (object-specific image, refined
2-channel logits at the input's resolution): the same pair as ``DraemModel`` (reconstruction,
logits), so that every backend, the export and the checks run either model unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.model.dsr.config import DsrConfig
from core.model.dsr.networks import AnomalyDetector, MaskUpsampler, ObjectDecoder, SubspaceRestriction
from core.model.dsr.vqvae import DsrVqVae, Quantised


@dataclass
class DsrOutputs:
    """Every stage of one inference pass (for training stages, tests and display)."""

    quantised: Quantised
    restored_fine: torch.Tensor
    restored_coarse: torch.Tensor
    object_image: torch.Tensor
    general_image: torch.Tensor
    coarse_logits: torch.Tensor
    logits: torch.Tensor


def init_weights(module: nn.Module) -> None:
    """Official initialisation of the object decoder and the detector: conv (and transposed conv)
    weights N(0, 0.02), biases left at PyTorch's default (the official code leaves them too)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)


class DsrModel(nn.Module):
    """All DSR networks for one configuration.

    The VQ-VAE (``vqvae``) is the general part, trained once; the rest is trained per
    object with the VQ-VAE fixed. Input height and width must be multiples of
    ``DsrConfig.MULTIPLE`` (32) and at least 64 (instance normalisation needs more than
    one value per channel at the subspace restriction's 1/32 bottleneck).
    """

    def __init__(self, cfg: DsrConfig | None = None):
        super().__init__()
        self.cfg = cfg = DsrConfig.paper() if cfg is None else cfg
        self.vqvae = DsrVqVae(cfg)
        self.restrict_fine = SubspaceRestriction(cfg.embedding_dim, cfg.restriction_width)
        self.restrict_coarse = SubspaceRestriction(cfg.embedding_dim, cfg.restriction_width)
        self.object_decoder = ObjectDecoder(cfg)
        self.detector = AnomalyDetector(cfg)
        self.upsampler = MaskUpsampler(cfg)
        # the official train_dsr.py initialises these two; the others keep PyTorch's default
        self.object_decoder.apply(init_weights)
        self.detector.apply(init_weights)

    def check_size(self, image: torch.Tensor) -> None:
        h, w = image.shape[-2:]
        m = DsrConfig.MULTIPLE
        if h % m or w % m or min(h, w) < 2 * m:
            raise ValueError(f"DSR needs height and width that are multiples of {m} and at least "
                             f"{2 * m}, got {h}x{w}")

    def restore(self, q_fine: torch.Tensor, q_coarse: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Both levels through their subspace restriction; (restored fine, restored coarse,
        the object-specific image rebuilt from them)."""
        _, fine, _ = self.restrict_fine(q_fine, self.vqvae.quant_fine)
        _, coarse, _ = self.restrict_coarse(q_coarse, self.vqvae.quant_coarse)
        return fine, coarse, self.object_decoder(self.vqvae.join(fine, coarse))

    def stages(self, image: torch.Tensor) -> DsrOutputs:
        """One inference pass, every intermediate kept. Never updates the codebooks."""
        self.check_size(image)
        q = self.vqvae.quantise(image, update=False)
        fine, coarse, object_image = self.restore(q.q_fine, q.q_coarse)
        general_image = self.vqvae.decode(q.q_fine, q.q_coarse)
        coarse_logits = self.detector(object_image, general_image)
        logits = self.upsampler(object_image, general_image, coarse_logits.softmax(dim=1))
        return DsrOutputs(q, fine, coarse, object_image, general_image, coarse_logits, logits)

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Image [B, C, H, W] -> (object-specific image [B, C, H, W], anomaly logits
        [B, 2, H, W], channel 1: anomalous)."""
        out = self.stages(image)
        return out.object_image, out.logits


def count_parameters(module: nn.Module) -> int:
    """Learnt (gradient) parameters; the codebooks are buffers and not counted."""
    return sum(p.numel() for p in module.parameters())
