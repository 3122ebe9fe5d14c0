import cv2
import numpy as np
import torch

from core.model.losses import draem_loss, focal_loss, ssim, ssim_loss


def reference_ssim(a: np.ndarray, b: np.ndarray, data_range: float = 1.0) -> float:
    """Independent reference: Wang et al. 2004 with an 11x11 Gaussian (sigma 1.5), zero padding."""
    def blur(x):
        return cv2.GaussianBlur(x, (11, 11), 1.5, borderType=cv2.BORDER_CONSTANT)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    vals = []
    for ch in range(a.shape[0]):
        x, y = a[ch].astype(np.float64), b[ch].astype(np.float64)
        mx, my = blur(x), blur(y)
        sx = blur(x * x) - mx**2
        sy = blur(y * y) - my**2
        sxy = blur(x * y) - mx * my
        vals.append(((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sx + sy + c2)))
    return float(np.mean(vals))


def test_ssim_matches_independent_reference():
    rng = np.random.default_rng(0)
    a = rng.random((3, 48, 40)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.1, a.shape), 0, 1).astype(np.float32)
    got = ssim(torch.from_numpy(a)[None], torch.from_numpy(b)[None]).item()
    ref = reference_ssim(a, b)
    assert abs(got - ref) < 1e-4
    assert 0.3 < got < 0.99


def test_ssim_loss_zero_for_identical_images_and_grows_with_noise():
    x = torch.rand(1, 3, 32, 32)
    assert ssim_loss(x, x).item() < 1e-5
    small = ssim_loss(x, (x + 0.05 * torch.randn_like(x)).clamp(0, 1)).item()
    large = ssim_loss(x, (x + 0.3 * torch.randn_like(x)).clamp(0, 1)).item()
    assert 0 < small < large


def test_focal_loss_hand_computed():
    # one pixel, p(anomalous) = 0.8, target anomalous: pt = 0.8(1-s) + 0.2 s + s with label smoothing s
    s = 1e-5
    probs = torch.tensor([0.2, 0.8]).view(1, 2, 1, 1)
    target = torch.ones(1, 1, 1, 1)
    pt = 0.2 * s + 0.8 * (1 - s) + s
    expected = -((1 - pt) ** 2) * np.log(pt)
    assert abs(focal_loss(probs, target).item() - expected) < 1e-6


def test_focal_loss_down_weights_easy_examples():
    target = torch.zeros(1, 1, 1, 1)
    easy = focal_loss(torch.tensor([0.95, 0.05]).view(1, 2, 1, 1), target).item()
    hard = focal_loss(torch.tensor([0.3, 0.7]).view(1, 2, 1, 1), target).item()
    ce_easy, ce_hard = -np.log(0.95), -np.log(0.3)
    assert easy < hard
    assert easy / ce_easy < hard / ce_hard  # (1 - pt)^2 modulation


def test_draem_loss_sums_parts():
    rec = torch.rand(2, 3, 16, 16)
    tgt = torch.rand(2, 3, 16, 16)
    logits = torch.randn(2, 2, 16, 16)
    mask = (torch.rand(2, 1, 16, 16) > 0.5).float()
    total, parts = draem_loss(rec, tgt, logits, mask)
    assert abs(total.item() - (parts["l2"] + parts["ssim"] + parts["focal"])) < 1e-5


def test_focal_alpha_weighs_the_classes_and_half_or_zero_is_the_paper_loss():
    import pytest

    from core.training.presets import get_preset

    torch.manual_seed(0)
    probs = torch.softmax(torch.randn(2, 2, 8, 8), dim=1)
    mask = (torch.rand(2, 1, 8, 8) > 0.7).float()
    plain = focal_loss(probs, mask).item()
    assert focal_loss(probs, mask, alpha=0.5).item() == pytest.approx(plain, rel=1e-6)
    # the per-pixel loss split by class, recombined with 2 alpha / 2 (1 - alpha)
    pos = focal_loss(probs, mask, alpha=1.0 - 1e-9).item() / 2  # only anomalous pixels count
    neg = plain - pos
    assert 0 < pos < plain
    assert focal_loss(probs, mask, alpha=0.75).item() == pytest.approx(1.5 * pos + 0.5 * neg, rel=1e-5)
    assert get_preset("fast").focal_alpha == 0.0 and get_preset("fast", focal_alpha=0.75).focal_alpha == 0.75
    for bad in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(ValueError, match="focal_alpha must be 0"):
            get_preset("fast", focal_alpha=bad)
