"""DSR's VQ-VAE: two quantisation levels and the general object appearance decoder.

Layout as in the paper and the official code (discrete_model.py): the fine encoder takes
the image to 1/4 resolution; the coarse encoder takes that to 1/8; the coarse features are
quantised first (codebook K_lo), upsampled back to 1/4 by a transposed convolution, joined
with the fine encoder's output and quantised again (codebook K_hi). The general appearance
decoder rebuilds the image from both quantised maps. Trained once, on general images; DSR's
later stages keep it fixed.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.model.dsr.config import DsrConfig
from core.model.dsr.quantiser import VectorQuantiser


class Residual(nn.Module):
    """x + conv1x1(relu(conv3x3(relu(x)))), both convolutions without bias."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(), nn.Conv2d(channels, hidden, 3, padding=1, bias=False),
            nn.ReLU(), nn.Conv2d(hidden, channels, 1, bias=False))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


class ResidualStack(nn.Sequential):
    """``layers`` residual blocks and a final ReLU."""

    def __init__(self, channels: int, hidden: int, layers: int):
        super().__init__(*[Residual(channels, hidden) for _ in range(layers)], nn.ReLU())


def _down(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, kernel_size=4, stride=2, padding=1)


def _up(cin: int, cout: int) -> nn.ConvTranspose2d:
    return nn.ConvTranspose2d(cin, cout, kernel_size=4, stride=2, padding=1)


class FineEncoder(nn.Sequential):
    """Image -> features at 1/4 resolution (two strided 4x4 convolutions, a 3x3, a residual stack)."""

    def __init__(self, cfg: DsrConfig):
        h = cfg.hidden
        super().__init__(_down(cfg.channels, h // 2), nn.ReLU(), _down(h // 2, h), nn.ReLU(),
                         nn.Conv2d(h, h, 3, padding=1),
                         ResidualStack(h, cfg.residual_hidden, cfg.residual_layers))


class CoarseEncoder(nn.Sequential):
    """Fine features (1/4) -> coarse features (1/8)."""

    def __init__(self, cfg: DsrConfig):
        h = cfg.hidden
        super().__init__(_down(h, h), nn.ReLU(), nn.Conv2d(h, h, 3, padding=1), nn.ReLU(),
                         ResidualStack(h, cfg.residual_hidden, cfg.residual_layers))


class ImageDecoder(nn.Sequential):
    """[B, cin, H/4, W/4] features -> image: a 3x3, a residual stack, two transposed 4x4 convolutions.

    The general appearance decoder (cin = both quantised levels); the object-specific
    decoder ends with the same layers.
    """

    def __init__(self, cin: int, cfg: DsrConfig):
        h = cfg.hidden
        super().__init__(nn.Conv2d(cin, h, 3, padding=1),
                         ResidualStack(h, cfg.residual_hidden, cfg.residual_layers),
                         _up(h, h // 2), nn.ReLU(), _up(h // 2, cfg.channels))


@dataclass
class Quantised:
    """One pass of the VQ-VAE's encoder side.

    ``fine_features``: the fine encoder's output (1/4), needed to re-quantise the fine level
    after the coarse one was altered. ``z_*``: the features just before quantisation (what
    the anomaly generation measures distances from); ``q_*``: their quantised maps;
    ``index_*``: code indices; ``loss``: both commitment losses.
    """

    fine_features: torch.Tensor
    z_coarse: torch.Tensor
    q_coarse: torch.Tensor
    index_coarse: torch.Tensor
    z_fine: torch.Tensor
    q_fine: torch.Tensor
    index_fine: torch.Tensor
    loss: torch.Tensor


class DsrVqVae(nn.Module):
    """The discrete latent model: two encoders, two quantisers, the general appearance decoder.

    ``forward`` returns (reconstruction, commitment loss, quantised levels): what its own
    training stage needs. The codebooks learn (EMA) in train mode only.
    """

    def __init__(self, cfg: DsrConfig):
        super().__init__()
        h, d = cfg.hidden, cfg.embedding_dim
        self.fine_encoder = FineEncoder(cfg)
        self.coarse_encoder = CoarseEncoder(cfg)
        self.pre_quant_coarse = nn.Conv2d(h, d, 1)
        self.pre_quant_fine = nn.Conv2d(h + d, d, 1)
        self.quant_coarse = VectorQuantiser(cfg.codebook_size, d, cfg.commitment_cost, cfg.decay, cfg.epsilon,
                                          cfg.dead_code_restart)
        self.quant_fine = VectorQuantiser(cfg.codebook_size, d, cfg.commitment_cost, cfg.decay, cfg.epsilon,
                                          cfg.dead_code_restart)
        self.upsample_coarse = _up(d, d)
        self.general_decoder = ImageDecoder(2 * d, cfg)

    def fine_input(self, fine_features: torch.Tensor, q_coarse: torch.Tensor) -> torch.Tensor:
        """Pre-quantisation fine features from the fine encoder's output and a coarse map.

        DSR's training alters ``q_coarse`` (anomalies on the coarse level) and re-derives the
        fine level from it with this function.
        """
        return self.pre_quant_fine(torch.cat((fine_features, self.upsample_coarse(q_coarse)), dim=1))

    def fine_level(self, fine_features: torch.Tensor, q_coarse: torch.Tensor,
                   update: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """(pre-quantisation, quantised) fine level for a given coarse map; the codebook stays
        fixed unless ``update``. With ``fine_features`` bound (functools.partial) this is the
        ``hi_from_lo`` of anomaly.two_level_anomalies."""
        z_fine = self.fine_input(fine_features, q_coarse)
        q_fine, _, _ = self.quant_fine(z_fine, update)
        return z_fine, q_fine

    def quantise(self, image: torch.Tensor, update: bool | None = None) -> Quantised:
        """Encode and quantise both levels; ``update`` as in ``VectorQuantiser.forward``."""
        fine_features = self.fine_encoder(image)
        z_coarse = self.pre_quant_coarse(self.coarse_encoder(fine_features))
        q_coarse, loss_coarse, index_coarse = self.quant_coarse(z_coarse, update)
        z_fine = self.fine_input(fine_features, q_coarse)
        q_fine, loss_fine, index_fine = self.quant_fine(z_fine, update)
        return Quantised(fine_features, z_coarse, q_coarse, index_coarse,
                         z_fine, q_fine, index_fine, loss_coarse + loss_fine)

    def join(self, q_fine: torch.Tensor, q_coarse: torch.Tensor) -> torch.Tensor:
        """Both levels at 1/4 resolution, coarse first: the input of either image decoder."""
        return torch.cat((self.upsample_coarse(q_coarse), q_fine), dim=1)

    def decode(self, q_fine: torch.Tensor, q_coarse: torch.Tensor) -> torch.Tensor:
        """The general object appearance decoder: image from both quantised levels."""
        return self.general_decoder(self.join(q_fine, q_coarse))

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Quantised]:
        q = self.quantise(image)
        return self.decode(q.q_fine, q.q_coarse), q.loss, q

