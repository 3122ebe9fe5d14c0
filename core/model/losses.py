"""DRAEM training losses: L2 + SSIM on the reconstruction, focal loss on the segmentation."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_window(size: int = 11, sigma: float = 1.5, channels: int = 3,
                    device=None, dtype=torch.float32) -> torch.Tensor:
    coords = torch.arange(size, device=device, dtype=dtype) - (size - 1) / 2
    g = torch.exp(-(coords**2) / (2 * sigma**2))
    g = g / g.sum()
    return (g[:, None] @ g[None, :]).expand(channels, 1, size, size).contiguous()


def ssim(a: torch.Tensor, b: torch.Tensor, window_size: int = 11, data_range: float = 1.0,
         reduce: bool = True) -> torch.Tensor:
    """Structural similarity with an 11x11 Gaussian window (sigma 1.5), per channel.

    Images are in [0, 1], so ``data_range`` is 1: what the official code derives from the
    value range for such images, without a device-to-host sync every step.
    """
    c = a.shape[1]
    win = gaussian_window(window_size, 1.5, c, a.device, a.dtype)
    pad = window_size // 2
    mu_a = F.conv2d(a, win, padding=pad, groups=c)
    mu_b = F.conv2d(b, win, padding=pad, groups=c)
    sa = F.conv2d(a * a, win, padding=pad, groups=c) - mu_a**2
    sb = F.conv2d(b * b, win, padding=pad, groups=c) - mu_b**2
    sab = F.conv2d(a * b, win, padding=pad, groups=c) - mu_a * mu_b
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    v1, v2 = 2.0 * sab + c2, sa + sb + c2
    smap = ((2 * mu_a * mu_b + c1) * v1) / ((mu_a**2 + mu_b**2 + c1) * v2)
    return smap.mean() if reduce else smap


def ssim_loss(rec: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """L_SSIM = mean over pixels of 1 - SSIM (paper eq. 1)."""
    return 1.0 - ssim(rec, target)


def focal_loss(probs: torch.Tensor, target: torch.Tensor, gamma: float = 2.0,
               smooth: float = 1e-5, alpha: float = 0.0) -> torch.Tensor:
    """Focal loss on softmax probabilities (N, 2, H, W) against a {0,1} mask (N, 1, H, W).

    Like the official code: label smoothing clamps the one-hot to [smooth/(C-1), 1-smooth],
    pt = <one_hot, p> + smooth, loss = -(1 - pt)^gamma * log(pt), mean over pixels.
    ``alpha`` in (0, 1) balances the classes as Lin et al.: anomalous pixels weigh
    ``2 alpha``, normal ones ``2 (1 - alpha)`` (0.5 is the unweighted loss); 0 (the paper and
    the official code) leaves the loss unweighted.
    """
    n_cls = probs.shape[1]
    idx = target.long().clamp(0, n_cls - 1)
    one_hot = torch.zeros_like(probs).scatter_(1, idx, 1.0)
    one_hot = one_hot.clamp(smooth / (n_cls - 1), 1.0 - smooth)
    pt = (one_hot * probs).sum(1) + smooth
    loss = -((1.0 - pt) ** gamma) * pt.log()
    if alpha:
        positive = target[:, 0] > 0.5
        loss = loss * torch.where(positive, 2.0 * alpha, 2.0 * (1.0 - alpha))
    return loss.mean()


def draem_loss(rec: torch.Tensor, target: torch.Tensor, logits: torch.Tensor,
               mask: torch.Tensor, focal_alpha: float = 0.0) -> tuple[torch.Tensor, dict[str, float]]:
    """Total loss = L2 + SSIM loss + focal loss (class balance ``focal_alpha``, see
    ``focal_loss``); returns (loss, parts for logging)."""
    l2 = F.mse_loss(rec, target)
    ls = ssim_loss(rec.float(), target.float())
    lf = focal_loss(torch.softmax(logits.float(), dim=1), mask, alpha=focal_alpha)
    total = l2 + ls + lf
    return total, {"l2": float(l2.detach()), "ssim": float(ls.detach()), "focal": float(lf.detach())}
