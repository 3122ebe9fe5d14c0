"""DSR's three training stages (core/training/dsr_stages.py) on tiny networks and 64x64 images.

The falling-loss checks compare the mean loss of the first and last few steps of a seeded run
on a fixed set of images, so they depend on the numbers only, never on the machine's speed.
"""

from __future__ import annotations

import copy
import inspect
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.model.dsr import DsrConfig, DsrModel
from core.training.dsr_stages import (
    StageOptimiser, image_anomalies, perlin_masks, train_general_appearance,
    train_object_specific, train_upsampling,
)

SIZE = 64
FAST = StageOptimiser(lr=2e-3)


def _images(n: int = 4, seed: int = 0) -> torch.Tensor:
    """Smooth coloured images: low-resolution noise blown up, plus a bright square."""
    g = torch.Generator().manual_seed(seed)
    base = F.interpolate(torch.rand(n, 3, 8, 8, generator=g), size=(SIZE, SIZE), mode="bilinear",
                         align_corners=False)
    base[:, :, 20:36, 24:40] = 0.9
    return base


def _stream(images: torch.Tensor, batch: int = 2):
    """Endless batches cycling over ``images`` in a fixed order."""
    starts = itertools.cycle(range(0, images.shape[0], batch))
    return (images[s:s + batch] for s in starts)


def _falls(losses: list[float], k: int = 4) -> bool:
    return float(np.mean(losses[-k:])) < 0.9 * float(np.mean(losses[:k]))


def _state(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.fixture(scope="module")
def general() -> DsrModel:
    """A tiny DSR whose VQ-VAE went through a short stage 1 (shared, copy before training)."""
    torch.manual_seed(0)
    model = DsrModel(DsrConfig.tiny())
    train_general_appearance(model, _stream(_images(seed=1)), 20, FAST)
    return model


def test_stage1_loss_falls_and_the_codebooks_learn():
    torch.manual_seed(0)
    model = DsrModel(DsrConfig.tiny())
    others = {n: _state(getattr(model, n)) for n in
              ("restrict_fine", "restrict_coarse", "object_decoder", "detector", "upsampler")}
    books = [model.vqvae.quant_fine.embedding.clone(), model.vqvae.quant_coarse.embedding.clone()]
    seen = []
    result = train_general_appearance(model, _stream(_images()), 24, FAST,
                                      progress=lambda s, l: seen.append((s, l)))
    assert result.steps == 24 and not result.cancelled and not result.exhausted
    assert [s for s, _ in seen] == list(range(1, 25)) and [l for _, l in seen] == result.losses
    assert _falls(result.losses), result.losses
    assert set(result.parts) == {"l2", "commitment"}
    # the codebooks learnt by moving averages; the object-specific networks were left alone
    assert not torch.equal(model.vqvae.quant_fine.embedding, books[0])
    assert not torch.equal(model.vqvae.quant_coarse.embedding, books[1])
    assert all(_same(s, _state(getattr(model, n))) for n, s in others.items())


def test_stage2_loss_falls_and_the_vq_vae_and_upsampler_stay_bitwise(general):
    model = copy.deepcopy(general)
    model.vqvae.train()  # the stage must put it in eval mode itself (or the EMA would move)
    vq_before, up_before = _state(model.vqvae), _state(model.upsampler)
    trained_before = _state(model.object_decoder)
    result = train_object_specific(model, _stream(_images()), 24, FAST,
                                   torch.Generator().manual_seed(3))
    assert result.steps == 24
    assert _falls(result.losses), result.losses
    assert set(result.parts) == {"focal", "l2_image", "l2_features"}
    assert _same(vq_before, _state(model.vqvae)), "stage 2 changed the VQ-VAE or its codebooks"
    assert _same(up_before, _state(model.upsampler))
    assert not _same(trained_before, _state(model.object_decoder))
    assert not model.vqvae.training
    assert all(not p.requires_grad for p in model.vqvae.parameters())


def test_stage3_loss_falls_and_only_the_upsampler_changes(general):
    model = copy.deepcopy(general)
    train_object_specific(model, _stream(_images()), 4, FAST, torch.Generator().manual_seed(4))
    fixed = {n: _state(getattr(model, n)) for n in
             ("vqvae", "restrict_fine", "restrict_coarse", "object_decoder", "detector")}
    up_before = _state(model.upsampler)
    result = train_upsampling(model, _stream(_images()), 24, FAST, torch.Generator().manual_seed(5))
    assert result.steps == 24 and set(result.parts) == {"focal"}
    assert _falls(result.losses), result.losses
    for name, before in fixed.items():
        assert _same(before, _state(getattr(model, name))), f"stage 3 changed {name}"
    assert not _same(up_before, _state(model.upsampler))


def test_a_seed_reproduces_a_stage(general):
    runs = []
    for _ in range(2):
        model = copy.deepcopy(general)
        runs.append(train_object_specific(model, _stream(_images()), 3, FAST,
                                          torch.Generator().manual_seed(11)).losses)
    assert runs[0] == runs[1]


@pytest.mark.parametrize("stage", [train_general_appearance, train_object_specific, train_upsampling])
def test_cancel_stops_a_stage(general, stage):
    model = copy.deepcopy(general)
    seen: list[int] = []
    result = stage(model, _stream(_images()), 50, FAST, torch.Generator().manual_seed(0),
                   progress=lambda s, _: seen.append(s), cancel=lambda: len(seen) >= 2)
    assert result.cancelled and result.steps == 2 and seen == [1, 2]
    # cancelled before the first step: nothing runs, nothing changes
    before = _state(model)
    result = stage(model, _stream(_images()), 50, FAST, cancel=lambda: True)
    assert result.cancelled and result.steps == 0 and _same(before, _state(model))


def test_a_stage_stops_when_the_batches_run_out(general):
    model = copy.deepcopy(general)
    result = train_general_appearance(model, [_images(2)], 5, FAST)
    assert result.exhausted and result.steps == 1 and not result.cancelled


def test_the_three_stages_chain_without_the_official_anom_par_crash():
    """The official train_dsr.py calls train_upsampling_module without its ``anom_par`` argument
    and dies with a TypeError after stage 2. Here the stages share one signature and stage 3
    takes no similarity bound: the same call shape runs all three in a row."""
    for stage in (train_object_specific, train_upsampling):
        assert "anom_par" not in inspect.signature(stage).parameters
    torch.manual_seed(0)
    model = DsrModel(DsrConfig.tiny())
    gen = torch.Generator().manual_seed(9)
    for stage in (train_general_appearance, train_object_specific, train_upsampling):
        result = stage(model, _stream(_images()), 2, StageOptimiser(), gen)
        assert result.steps == 2 and all(np.isfinite(result.losses))
    with torch.no_grad():
        assert model.eval()(_images(1))[1].shape == (1, 2, SIZE, SIZE)


def test_image_anomalies_paste_a_blended_colour_inside_the_mask():
    images = _images(16)
    gen = torch.Generator().manual_seed(2)
    out, masks = image_anomalies(images, np.random.default_rng(2), gen)
    assert out.shape == images.shape and masks.shape == (16, 1, SIZE, SIZE)
    assert set(masks.unique().tolist()) <= {0.0, 1.0}
    outside = masks.expand_as(images) == 0
    assert torch.equal(out[outside], images[outside])
    empty = masks.flatten(1).sum(1) == 0
    assert 2 <= int(empty.sum()) <= 14  # about half are left normal (plus any empty mask)
    inside = ~outside
    assert bool((out[inside] != images[inside]).any())
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    # nothing anomalous when normal_share is 1
    same, none = image_anomalies(images, np.random.default_rng(2), gen, normal_share=1.0)
    assert torch.equal(same, images) and float(none.sum()) == 0.0


def test_perlin_masks_come_from_core_synth():
    masks = perlin_masks(3, (SIZE, SIZE), np.random.default_rng(0))
    from core.synth.perlin import perlin_mask
    rng = np.random.default_rng(0)
    for m in masks:
        assert np.array_equal(m[0].numpy(), perlin_mask((SIZE, SIZE), rng))


def test_official_optimiser_schedules():
    assert StageOptimiser.object_specific().lr == StageOptimiser.upsampling().lr == 2e-4
    param = torch.nn.Parameter(torch.zeros(1))
    opt, schedule = StageOptimiser.upsampling().build([param], 100)
    rates = []
    for _ in range(100):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        schedule.step()
    assert rates[79] == pytest.approx(2e-4) and rates[80] == pytest.approx(2e-4 * 0.2)
    assert rates[90] == pytest.approx(2e-4 * 0.04)
    with pytest.raises(ValueError):
        StageOptimiser(lr=0)
    with pytest.raises(ValueError):
        StageOptimiser(milestones=(1.5,))
