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
