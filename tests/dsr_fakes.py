"""Tiny DSR bundles for the tests of the inference side (issue 15): fast on a CPU, untrained."""

from __future__ import annotations

TINY_META = {"model": "dsr", "preset": "tiny-test", "image_size": [64, 64],
             "thresholds": {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}}


def tiny_dsr_model(seed: int = 0):
    import torch

    from core.model.dsr import DsrConfig, DsrModel

    torch.manual_seed(seed)
    return DsrModel(DsrConfig.tiny()).eval()


def make_tiny_dsr_bundle(path, image_size=(64, 64), seed: int = 0, model=None, **meta):
    """A DSR bundle of ``DsrConfig.tiny()`` (seeded random weights unless ``model``)."""
    from core.inference.bundle import save_bundle

    model = tiny_dsr_model(seed) if model is None else model
    full = dict(TINY_META, dsr=model.cfg.to_dict(), image_size=list(image_size), **meta)
    return save_bundle(path, model.state_dict(), full)


def lively_dsr_model(seed: int = 0, confident: bool = False):
    """A tiny DSR whose every stage carries signal, unlike the official initialisation (its
    object image is nearly constant, so the detector's first instance norm divides by a
    standard deviation of ~3e-3 and amplifies float32 rounding ~160 times): He-initialised
    convolutions, and codebooks drawn from the encoders' own features, so most codes are used
    and each feature has one clearly nearest code. ``confident``: the final logits are pushed
    toward "good" as a trained model's are on good parts (maps of ~1e-3 instead of spread
    over [0, 1])."""
    import torch
    from torch import nn

    model = tiny_dsr_model(seed)
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu", generator=gen)
            if m.bias is not None:
                nn.init.uniform_(m.bias, -0.1, 0.1, generator=gen)
    vq = model.vqvae

    def codes(z, k):
        flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1])
        return flat[torch.randperm(flat.shape[0], generator=gen)[:k]].clone()

    with torch.no_grad():
        x = torch.rand(4, 3, 64, 64, generator=gen)
        fine = vq.fine_encoder(x)
        z_coarse = vq.pre_quant_coarse(vq.coarse_encoder(fine))
        vq.quant_coarse.embedding.copy_(codes(z_coarse, vq.quant_coarse.codebook_size))
        q_coarse, _, _ = vq.quant_coarse(z_coarse, update=False)
        vq.quant_fine.embedding.copy_(codes(vq.fine_input(fine, q_coarse), vq.quant_fine.codebook_size))
        if confident:
            out = model.upsampler.unet.out
            out.weight.mul_(0.3)
            out.bias.copy_(torch.tensor([3.5, -3.5]))
    return model.eval()


def code_margins(model, images) -> float:
    """The smallest gap, over every feature of ``images`` [B, 3, H, W] at both levels, between
    the squared distances to its nearest and second-nearest code (float64)."""
    import torch

    vq, gaps = model.vqvae, []
    with torch.no_grad():
        q = vq.quantise(images, update=False)
        for z, quant in ((q.z_coarse, vq.quant_coarse), (q.z_fine, vq.quant_fine)):
            flat = z.permute(0, 2, 3, 1).reshape(-1, z.shape[1]).double()
            d = torch.cdist(flat, quant.embedding.double()).pow(2).sort(dim=1).values
            gaps.append(float((d[:, 1] - d[:, 0]).min()))
    return min(gaps)


def texture_frames(n: int = 3, seed: int = 11, size: int = 64) -> list:
    """uint8 BGR frames [size, size, 3]: smooth stripes plus noise, like a textured part."""
    import numpy as np

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1.0)
    out = []
    for _ in range(n):
        f, ph = rng.uniform(2, 8, 3), rng.uniform(0, 6, 3)
        img = 0.5 + 0.3 * np.sin(f * xx[..., None] + ph) * np.cos(f * yy[..., None])
        img = np.clip(img + rng.uniform(-0.05, 0.05, img.shape), 0, 1)
        out.append(np.round(img * 255).astype(np.uint8))
    return out
