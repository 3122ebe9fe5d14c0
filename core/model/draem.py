"""DRAEM networks (Zavrtanik, Kristan, Skocaj, ICCV 2021), pure torch.

Architecture follows the paper and the official code: a reconstructive encoder-decoder
without skip connections and a discriminative U-Net with skips whose input is the
channel concatenation (reconstruction, image). Widths are parameters; at the paper's
widths (128 / 64) the two networks have 97,422,725 parameters together.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F

from core.model.unet import SkipUNet


def _conv_bn_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel_size=3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]


def _double(cin: int, cmid: int, cout: int | None = None) -> nn.Sequential:
    cout = cmid if cout is None else cout
    return nn.Sequential(*_conv_bn_relu(cin, cmid), *_conv_bn_relu(cmid, cout))


def _up(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True), *_conv_bn_relu(cin, cout)
    )


class ReconstructiveSubNetwork(nn.Module):
    """Encoder-decoder (no skips): 4 pooling stages, widths w, 2w, 4w, 8w, 8w."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, base_width: int = 128):
        super().__init__()
        w = base_width
        self.enc = nn.ModuleList([_double(in_channels, w), _double(w, 2 * w), _double(2 * w, 4 * w),
                                  _double(4 * w, 8 * w), _double(8 * w, 8 * w)])
        self.dec = nn.ModuleList([
            nn.Sequential(_up(8 * w, 8 * w), _double(8 * w, 8 * w, 4 * w)),
            nn.Sequential(_up(4 * w, 4 * w), _double(4 * w, 4 * w, 2 * w)),
            nn.Sequential(_up(2 * w, 2 * w), _double(2 * w, 2 * w, w)),
            nn.Sequential(_up(w, w), _double(w, w)),
        ])
        self.out = nn.Conv2d(w, out_channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, block in enumerate(self.enc):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
        for block in self.dec:
            x = block(x)
        return self.out(x)


class DiscriminativeSubNetwork(SkipUNet):
    """U-Net with skips: 5 pooling stages, widths w, 2w, 4w, 8w, 8w, 8w; 2-channel logits."""

    def __init__(self, in_channels: int = 6, out_channels: int = 2, base_width: int = 64):
        super().__init__()
        w = base_width
        self.enc = nn.ModuleList([_double(in_channels, w), _double(w, 2 * w), _double(2 * w, 4 * w),
                                  _double(4 * w, 8 * w), _double(8 * w, 8 * w), _double(8 * w, 8 * w)])
        # (up-conv in -> out, skip width) from the bottleneck up to full resolution
        ups = [(8 * w, 8 * w, 8 * w), (8 * w, 4 * w, 8 * w), (4 * w, 2 * w, 4 * w),
               (2 * w, w, 2 * w), (w, w, w)]
        self.up = nn.ModuleList([_up(cin, cout) for cin, cout, _ in ups])
        self.dec = nn.ModuleList([_double(cout + skip, cout) for _, cout, skip in ups])
        self.out = nn.Conv2d(w, out_channels, kernel_size=3, padding=1)


def init_weights(module: nn.Module) -> None:
    """Official initialisation: conv weights N(0, 0.02); BatchNorm gamma N(1, 0.02), beta 0."""
    if isinstance(module, nn.Conv2d):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class DraemModel(nn.Module):
    """Both sub-networks. ``forward`` returns (reconstruction, segmentation logits)."""

    def __init__(self, recon_width: int = 128, disc_width: int = 64, channels: int = 3):
        super().__init__()
        self.recon_width, self.disc_width, self.channels = recon_width, disc_width, channels
        self.reconstructive = ReconstructiveSubNetwork(channels, channels, recon_width)
        self.discriminative = DiscriminativeSubNetwork(2 * channels, 2, disc_width)
        self.apply(init_weights)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rec = self.reconstructive(x)
        logits = self.discriminative(torch.cat((rec, x), dim=1))
        return rec, logits


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
