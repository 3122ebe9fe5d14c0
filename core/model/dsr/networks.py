"""DSR's object-specific networks: subspace restriction, object decoder, anomaly detection, upsampling.

Layer layout follows the official code (dsr_model.py), written anew. All use instance
normalisation (no learnt parameters), as the official code does, so they behave the same
for a batch of one at inference as in training.
"""

from __future__ import annotations

import torch
from torch import nn

from core.model.dsr.config import DsrConfig
from core.model.dsr.quantiser import VectorQuantiser
from core.model.dsr.vqvae import ImageDecoder
from core.model.unet import SkipUNet


def _conv_in_relu(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1), nn.InstanceNorm2d(cout), nn.ReLU()]


def _double(cin: int, cmid: int, cout: int | None = None) -> nn.Sequential:
    return nn.Sequential(*_conv_in_relu(cin, cmid), *_conv_in_relu(cmid, cmid if cout is None else cout))


def _up_conv(cin: int, cout: int) -> nn.Sequential:
    """Bilinear x2 (align_corners, as the official code) then conv-norm-ReLU."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True),
                         *_conv_in_relu(cin, cout))


class SubspaceRestriction(nn.Module):
    """Pulls a (possibly anomalous) quantised map back to the object's normal appearance.

    An encoder-decoder without skips (two poolings, widths w, 2w, 4w) maps a quantised
    level [B, D, h, w] to features of the same shape, which are then re-quantised with that
    level's codebook (fixed: ``update=False``). One per level. ``forward`` returns
    (features before quantisation, re-quantised map, commitment loss); DSR's second stage
    fits the former to the normal quantised map.
    """

    def __init__(self, dim: int, width: int):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(_double(dim, w), nn.MaxPool2d(2), _double(w, 2 * w),
                                     nn.MaxPool2d(2), _double(2 * w, 4 * w))
        self.decoder = nn.Sequential(_up_conv(4 * w, 2 * w), _double(2 * w, 2 * w),
                                     _up_conv(2 * w, w), _double(w, w),
                                     nn.Conv2d(w, dim, 3, padding=1))

    def forward(self, q: torch.Tensor, quantiser: VectorQuantiser
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        features = self.decoder(self.encoder(q))
        restored, loss, _ = quantiser(features, update=False)
        return features, restored, loss


class ObjectDecoder(nn.Module):
    """The object-specific appearance decoder: image from both (restored) quantised levels.

    Its input is the VQ-VAE's join of both levels at 1/4 resolution ([B, 2D, H/4, W/4]).
    Two conv blocks with poolings widen it to 8D at 1/16, a 1x1 narrows it to the
    bottleneck, two transposed convolutions bring it back to 1/4 and the general decoder's
    layers (3x3, residual stack, two transposed convolutions) finish the image. Trained per
    object, so that normal appearance is rebuilt sharply where the general decoder is blurred.
    """

    def __init__(self, cfg: DsrConfig):
        super().__init__()
        c, b = 2 * cfg.embedding_dim, cfg.object_bottleneck
        self.encoder = nn.Sequential(_double(c, c, 2 * c), nn.MaxPool2d(2),
                                     _double(2 * c, 2 * c, 4 * c), nn.MaxPool2d(2),
                                     nn.Conv2d(4 * c, b, 1))
        self.expand = nn.Sequential(nn.ConvTranspose2d(b, b, 4, stride=2, padding=1), nn.ReLU(),
                                    nn.ConvTranspose2d(b, b, 4, stride=2, padding=1), nn.ReLU())
        self.decoder = ImageDecoder(b, cfg)

    def forward(self, joined: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.expand(self.encoder(joined)))


class UNet(SkipUNet):
    """U-Net with skips, three poolings, widths w, 2w, 4w, 4w; ``out_channels`` logits.

    Used for both the anomaly detection module and the upsampling module.
    """

    def __init__(self, in_channels: int, width: int, out_channels: int = 2):
        super().__init__()
        w = width
        self.enc = nn.ModuleList([_double(in_channels, w), _double(w, 2 * w),
                                  _double(2 * w, 4 * w), _double(4 * w, 4 * w)])
        # (up-conv in -> out, skip width) from the bottleneck up to full resolution
        ups = [(4 * w, 4 * w, 4 * w), (4 * w, 2 * w, 2 * w), (2 * w, w, w)]
        self.up = nn.ModuleList([_up_conv(cin, cout) for cin, cout, _ in ups])
        self.dec = nn.ModuleList([_double(cout + skip, cout) for _, cout, skip in ups])
        self.out = nn.Conv2d(w, out_channels, 3, padding=1)


class AnomalyDetector(nn.Module):
    """Anomaly detection module: a U-Net on (object-specific image, general image), 2-channel logits.

    Where the two reconstructions disagree the image is anomalous. Trained against masks
    quantised to the latent grid (1/4 or 1/8), so its map is coarse: the upsampling module
    sharpens it.
    """

    def __init__(self, cfg: DsrConfig):
        super().__init__()
        self.unet = UNet(2 * cfg.channels, cfg.detector_width)

    def forward(self, object_image: torch.Tensor, general_image: torch.Tensor) -> torch.Tensor:
        return self.unet(torch.cat((object_image, general_image), dim=1))


class MaskUpsampler(nn.Module):
    """Upsampling module: a U-Net on (both reconstructions, the detector's softmax), refined logits.

    Its input is the same two images as the detector's plus the 2-channel probability map,
    as in the official code (test_dsr.py / train_dsr.py); trained on full-resolution masks in
    DSR's third stage.
    """

    def __init__(self, cfg: DsrConfig):
        super().__init__()
        self.unet = UNet(2 * cfg.channels + 2, cfg.detector_width)

    def forward(self, object_image: torch.Tensor, general_image: torch.Tensor,
                mask_probabilities: torch.Tensor) -> torch.Tensor:
        return self.unet(torch.cat((object_image, general_image, mask_probabilities), dim=1))
