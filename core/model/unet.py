"""The skip-connected U-Net pass shared by DRAEM's discriminative network and DSR's U-Nets.

Subclasses build ``enc`` (one block per resolution, top down), ``up`` and ``dec`` (one pair
per skip, bottom up) and ``out``; the pass pools between encoder blocks, then upsamples and
joins each level with its skip. Kept in one place so both models' attribute names, and so
their state-dict keys, stay the same.
"""

from __future__ import annotations

import torch
from torch import nn
import torch.nn.functional as F


class SkipUNet(nn.Module):
    """Forward of a U-Net whose layers a subclass defines (see the module docstring)."""

    enc: nn.ModuleList
    up: nn.ModuleList
    dec: nn.ModuleList
    out: nn.Module

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = []
        for i, block in enumerate(self.enc):
            x = block(x if i == 0 else F.max_pool2d(x, 2))
            feats.append(x)
        x = feats.pop()
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat((up(x), feats.pop()), dim=1))
        return self.out(x)
