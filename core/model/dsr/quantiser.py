"""The vector quantiser of DSR's VQ-VAE: nearest code, straight-through gradient, EMA codebook.

The codebook is not learnt by gradient descent but by exponential moving averages of the
features each code is assigned (van den Oord et al. 2017, appendix; the official DSR code
uses the same scheme with decay 0.99, epsilon 1e-5 and commitment cost 0.25). The codebook
and its statistics are buffers, so an optimiser never touches them and they travel in the
state dict; ``embedding`` ([K, C]) is the plain tensor that the feature-space anomaly
generation (core/model/dsr/anomaly.py) samples replacement codes from.

Dead codes: a code no feature is assigned to never moves under the EMA rule, and with N(0, 1)
codes and an encoder whose first outputs are near zero, nearly all of them are never assigned:
trained on this product's general images, 2 of 512 fine codes were in use after 300 steps.
With ``restart_after`` > 0 a code unused for that many consecutive updates is moved onto a
random feature of the current batch (the "random restart" of Dhariwal et al., Jukebox 2020), so
the whole codebook takes part. The official code has no restart; it is off by default here and
on in every :class:`DsrConfig` (``dead_code_restart``). It acts only while the codebook learns
(stage 1), never at inference.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class VectorQuantiser(nn.Module):
    """Maps each C-vector of a [B, C, H, W] map to its nearest of K codes.

    ``forward`` returns (quantised map, commitment loss, code indices [B, H, W]). The
    quantised map carries a straight-through gradient: its gradient is passed to the
    input unchanged, so the encoder in front learns although argmin has no gradient.
    """

    embedding: torch.Tensor
    ema_cluster_size: torch.Tensor
    ema_sum: torch.Tensor

    def __init__(self, codebook_size: int, dim: int, commitment_cost: float = 0.25,
                 decay: float = 0.99, epsilon: float = 1e-5, restart_after: int = 0):
        super().__init__()
        if restart_after < 0:
            raise ValueError(f"restart_after must be >= 0, got {restart_after}")
        self.restart_after = int(restart_after)
        self.codebook_size, self.dim = codebook_size, dim
        self.commitment_cost, self.decay, self.epsilon = commitment_cost, decay, epsilon
        # N(0, 1) codes, as the official code initialises them.
        self.register_buffer("embedding", torch.randn(codebook_size, dim))
        # EMA statistics start empty: a code's first update sets it to the mean of the
        # features assigned to it. (The official code starts its sums at random values and
        # its counts at zero, which sends codes unused in the first step to ~1e5 in norm,
        # where they stay dead; starting both at zero avoids that without changing the rule.)
        self.register_buffer("ema_cluster_size", torch.zeros(codebook_size))
        self.register_buffer("ema_sum", torch.zeros(codebook_size, dim))
        # consecutive updates without an assignment, per code (not saved: a training aid only)
        self.register_buffer("unused_steps", torch.zeros(codebook_size, dtype=torch.long),
                             persistent=False)

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:
        """Index of the nearest code (squared Euclidean distance) for each row of [N, C]."""
        # in float32 whatever the model's precision: an fp16 rounding flips nearly tied codes
        e, flat = self.embedding.float(), flat.float()
        # ||x||^2 - 2 x.e + ||e||^2 without forming the [N, K, C] differences
        distances = (flat.pow(2).sum(1, keepdim=True) - 2.0 * flat @ e.t() + e.pow(2).sum(1))
        return distances.argmin(dim=1)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """Codes for an index map [B, H, W] as a [B, C, H, W] map."""
        return F.embedding(indices, self.embedding).permute(0, 3, 1, 2).contiguous()

    def forward(self, z: torch.Tensor, update: bool | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantise ``z`` [B, C, H, W]; learn the codebook when ``update`` (default: training).

        Callers that only use a trained codebook (the subspace restriction modules in DSR's
        second stage) pass ``update=False`` so that the general codebook stays fixed.
        """
        b, c, h, w = z.shape
        if c != self.dim:
            raise ValueError(f"quantiser expects {self.dim} channels, got {c}")
        flat = z.permute(0, 2, 3, 1).reshape(-1, c)
        indices = self.nearest(flat.detach())
        if self.training if update is None else update:
            self._ema_update(flat.detach(), indices)
        quantised = self.lookup(indices.view(b, h, w))
        loss = self.commitment_cost * F.mse_loss(z, quantised.detach())
        quantised = z + (quantised - z).detach()  # straight-through estimator
        return quantised, loss, indices.view(b, h, w)

    @torch.no_grad()
    def _ema_update(self, flat: torch.Tensor, indices: torch.Tensor) -> None:
        """Move each used code toward the mean of its features; unused codes stay as they are.

        The counts are Laplace-smoothed (epsilon) so no used code divides by ~0, and the
        smoothed counts are what is kept, as in the official code.
        """
        k, d = self.codebook_size, self.decay
        counts = torch.bincount(indices, minlength=k).to(flat.dtype)
        sums = torch.zeros_like(self.ema_sum).index_add_(0, indices, flat)
        size = self.ema_cluster_size.mul_(d).add_(counts, alpha=1.0 - d)
        n = size.sum()
        size.copy_((size + self.epsilon) / (n + k * self.epsilon) * n)
        self.ema_sum.mul_(d).add_(sums, alpha=1.0 - d)
        used = counts > 0
        self.embedding[used] = self.ema_sum[used] / size[used].unsqueeze(1)
        if self.restart_after:
            self._restart(flat, used)

    @torch.no_grad()
    def _restart(self, flat: torch.Tensor, used: torch.Tensor) -> None:
        """Codes unused for ``restart_after`` updates become random features of this batch, with
        the statistics of one assignment (so the next assignments move them at the EMA rate)."""
        self.unused_steps.add_(1).masked_fill_(used, 0)
        dead = torch.nonzero(self.unused_steps >= self.restart_after).flatten()
        if dead.numel() == 0:
            return
        pick = torch.randint(0, flat.shape[0], (dead.numel(),), device=flat.device)
        self.embedding[dead] = flat[pick]
        self.ema_sum[dead] = flat[pick]
        self.ema_cluster_size[dead] = 1.0
        self.unused_steps[dead] = 0
