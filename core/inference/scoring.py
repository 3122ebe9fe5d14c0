"""From segmentation logits to the anomaly map M_o and the image score."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def smoothing_kernel(image_size: tuple[int, int]) -> int:
    """The official 21x21 mean filter at 256x256, scaled with resolution (odd, >= 3)."""
    scale = (image_size[0] * image_size[1]) ** 0.5 / 256.0
    k = max(3, int(round(21 * scale)))
    return k if k % 2 else k + 1


def anomaly_map(logits: torch.Tensor) -> torch.Tensor:
    """Softmax probability of the anomalous class, (N, H, W). With two classes that is
    sigmoid(l1 - l0): the same values, and an exported graph runs it about 10x faster than a
    softmax across channels (3 ms of a 100 ms fast-preset CPU inference)."""
    if logits.shape[1] == 2:
        return torch.sigmoid(logits[:, 1] - logits[:, 0])
    return torch.softmax(logits, dim=1)[:, 1]


def image_scores(amap: torch.Tensor, kernel: int) -> torch.Tensor:
    """Max of the mean-filtered anomaly map, as the official evaluation (count_include_pad)."""
    pooled = F.avg_pool2d(amap[:, None], kernel, stride=1, padding=kernel // 2)
    return pooled.flatten(1).amax(dim=1)
