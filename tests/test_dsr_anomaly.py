"""DSR's feature-space anomaly generation (core/model/dsr/anomaly.py) and its stage losses
(core/model/dsr/losses.py): the mask is respected, replacements are codebook entries whose
distance rank obeys λ_s (checked against a brute-force ranking), seeds reproduce, and each
loss is minimal where it should be and falls on a toy problem. Tiny sizes: CPU, seconds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from core.model.dsr.anomaly import (
    LevelChoice, choose_levels, drop_anomalies, feature_mask, rank_bounds,
    replace_with_near_codes, sample_similarity_bound, target_mask, two_level_anomalies)
from core.model.dsr.losses import mask_focal_loss, object_stage_loss, upsampling_loss, vq_vae_loss
from core.synth.perlin import perlin_mask


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _codebook(k: int, c: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(k, c, generator=_gen(seed), dtype=torch.float64)


def _quantised(codebook: torch.Tensor, b: int, h: int, w: int, seed: int = 1) -> torch.Tensor:
    idx = torch.randint(codebook.shape[0], (b, h, w), generator=_gen(seed))
    return codebook[idx].permute(0, 3, 1, 2).contiguous()


def _perlin_masks(b: int, size: int, seed: int = 3) -> torch.Tensor:
    """DRÆM's Perlin masks at image resolution, regenerated until none is empty."""
    rng = np.random.default_rng(seed)
    out = []
    while len(out) < b:
        m = perlin_mask((size, size), rng, max_exp=3)
        if 0 < m.mean() < 0.9:
            out.append(m)
    return torch.from_numpy(np.stack(out))[:, None]


def _brute_force_rank(ref: torch.Tensor, codebook: torch.Tensor, code: int) -> int:
    """Position of ``code`` when all codes are sorted by distance to ``ref`` (explicit loop)."""
    d = [float(((ref - codebook[j]) ** 2).sum()) for j in range(codebook.shape[0])]
    order = sorted(range(len(d)), key=lambda j: d[j])
    return order.index(code)


def test_rank_bounds_at_the_paper_size_and_at_the_extremes():
    skip, top = rank_bounds(4096, torch.tensor([0.0, 0.2, 1.0]))
    assert skip.tolist() == [204, 204, 204]             # the nearest 5 % are never used
    assert top.tolist() == [205, 820, 4096]             # floor(λK)+1 nearest, at least one left
    skip, top = rank_bounds(16, 1.0)                    # small codebook: still skip own code
    assert (int(skip), int(top)) == (1, 16)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError):
            rank_bounds(64, bad)
    with pytest.raises(ValueError):
        rank_bounds(1, 0.5)


def test_features_change_only_inside_the_mask_and_only_to_codebook_entries():
    book = _codebook(48, 8)
    q = _quantised(book, 3, 8, 8)
    mask = _perlin_masks(3, 32)                          # image resolution, 4x the features
    out, codes = replace_with_near_codes(q, book, mask, 0.6, _gen(5))
    cells = feature_mask(mask, (8, 8))[:, 0] > 0.5
    assert cells.any() and (~cells).any()
    assert torch.equal(out.permute(0, 2, 3, 1)[~cells], q.permute(0, 2, 3, 1)[~cells])
    assert bool((codes[~cells] == -1).all()) and bool((codes[cells] >= 0).all())
    inside = out.permute(0, 2, 3, 1)[cells]
    assert torch.equal(inside, book[codes[cells]])       # exactly codebook rows
    assert not torch.equal(inside, q.permute(0, 2, 3, 1)[cells])
    empty, none = replace_with_near_codes(q, book, torch.zeros(3, 1, 8, 8), 0.6, _gen(5))
    assert torch.equal(empty, q) and bool((none == -1).all())


def test_replaced_codes_respect_the_similarity_bound_against_a_brute_force_ranking():
    k = 60
    book = _codebook(k, 6)
    z = torch.randn(4, 6, 5, 5, generator=_gen(7), dtype=torch.float64)  # pre-quantisation
    q = _quantised(book, 4, 5, 5)
    lam = torch.tensor([0.1, 0.3, 0.7, 1.0])
    mask = torch.ones(4, 1, 5, 5)
    for ref in (None, z):                                  # rank to the code, or to z
        out, codes = replace_with_near_codes(q, book, mask, lam, _gen(11), features=ref)
        against = q if ref is None else ref
        skip, top = rank_bounds(k, lam)
        for i in range(4):
            for y in range(5):
                for x in range(5):
                    r = _brute_force_rank(against[i, :, y, x], book, int(codes[i, y, x]))
                    assert int(skip[i]) <= r < int(top[i]), (i, r)


def test_similarity_bound_extremes():
    k, n = 40, 30
    book = _codebook(k, 5, seed=2)
    q = _quantised(book, 1, n, n)
    mask = torch.ones(1, 1, n, n)

    def ranks(codes: torch.Tensor) -> set[int]:
        return {_brute_force_rank(q[0, :, y, x], book, int(codes[0, y, x]))
                for y in range(n) for x in range(n)}

    skip = max(1, int(0.05 * k))
    # λ_s = 0: the one code just past the skipped nearest ones, never the pixel's own code
    _, codes = replace_with_near_codes(q, book, mask, 0.0, _gen(1))
    assert ranks(codes) == {skip}
    # λ_s = 1: every code except the skipped nearest ones is drawn, the farthest included
    _, codes = replace_with_near_codes(q, book, mask, 1.0, _gen(1))
    assert ranks(codes) == set(range(skip, k))


def test_seeded_generation_is_reproducible_and_seeds_differ():
    book = _codebook(32, 4)
    q = _quantised(book, 2, 6, 6)
    mask = torch.ones(2, 1, 6, 6)
    lam = sample_similarity_bound(2, _gen(3))
    assert torch.equal(lam, sample_similarity_bound(2, _gen(3)))
    assert bool(((lam >= 0.2) & (lam < 1.0)).all())
    a = replace_with_near_codes(q, book, mask, lam, _gen(9))
    b = replace_with_near_codes(q, book, mask, lam, _gen(9))
    c = replace_with_near_codes(q, book, mask, lam, _gen(10))
    assert torch.equal(a.features, b.features) and torch.equal(a.codes, b.codes)
    assert not torch.equal(a.codes, c.codes)
    small_chunks = replace_with_near_codes(q, book, mask, lam, _gen(9), chunk=5)
    assert torch.equal(small_chunks.codes, a.codes)        # chunking changes nothing


def test_feature_mask_marks_a_cell_when_any_of_its_pixels_is_anomalous():
    m = torch.zeros(1, 1, 8, 8)
    m[0, 0, 5, 2] = 1.0
    cells = feature_mask(m, (2, 2))
    assert cells[0, 0].tolist() == [[0.0, 0.0], [1.0, 0.0]]
    assert feature_mask(m, (3, 3)).sum() >= 1              # uneven sizes: adaptive pooling
    with pytest.raises(ValueError):
        feature_mask(torch.zeros(1, 8, 8), (2, 2))


def test_a_share_of_the_batch_gets_no_anomaly():
    mask = torch.ones(400, 1, 4, 4)
    none, kept = drop_anomalies(mask, 0.0, _gen(0))
    assert torch.equal(none, mask) and bool(kept.all())
    every, kept = drop_anomalies(mask, 1.0, _gen(0))
    assert every.sum() == 0 and not kept.any()
    half, kept = drop_anomalies(mask, 0.5, _gen(0))
    assert 150 < int(kept.sum()) < 250
    assert torch.equal(half[kept], mask[kept]) and half[~kept].sum() == 0


def test_level_choice_probabilities_and_the_target_mask():
    choice = choose_levels(2000, _gen(4))
    stacked = torch.stack([choice.both, choice.lo_only, choice.hi_only]).int()
    assert bool((stacked.sum(0) == 1).all())               # exactly one option per image
    share = stacked.float().mean(1)
    assert abs(share[0] - 0.5) < 0.05 and abs(share[1] - 0.25) < 0.05
    m = torch.zeros(3, 1, 8, 8)
    m[:, 0, 1, 1] = 1.0
    pick = LevelChoice(both=torch.tensor([True, False, False]),
                       lo_only=torch.tensor([False, True, False]),
                       hi_only=torch.tensor([False, False, True]))
    truth = target_mask(m, (2, 2), (4, 4), pick)
    assert truth.shape == m.shape
    assert truth[0].sum() == 16 and truth[1].sum() == 16   # coarse 4x4-pixel cell
    assert truth[2].sum() == 4                             # fine 2x2-pixel cell


def test_two_level_anomalies_perturb_the_levels_chosen_per_image():
    book_lo, book_hi = _codebook(24, 4, seed=1), _codebook(24, 4, seed=2)
    z_lo = torch.randn(3, 4, 2, 2, generator=_gen(0), dtype=torch.float64)
    q_lo = _quantised(book_lo, 3, 2, 2)

    def hi_from_lo(q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = nn.functional.interpolate(q, scale_factor=2.0) * 0.5
        idx = torch.cdist(z.permute(0, 2, 3, 1).reshape(-1, 4), book_hi).argmin(1)
        return z, book_hi[idx].view(3, 4, 4, 4).permute(0, 3, 1, 2)

    pick = LevelChoice(both=torch.tensor([True, False, False]),
                       lo_only=torch.tensor([False, True, False]),
                       hi_only=torch.tensor([False, False, True]))
    mask = torch.ones(3, 1, 8, 8)
    lo, hi, hi_real, truth = two_level_anomalies(z_lo, q_lo, book_lo, hi_from_lo, book_hi, mask,
                                                 pick, 0.5, 0.5, _gen(6))
    assert torch.equal(hi_real, hi_from_lo(q_lo)[1])
    assert not torch.equal(lo[0], q_lo[0]) and not torch.equal(hi[0], hi_real[0])  # both
    assert not torch.equal(lo[1], q_lo[1]) and torch.equal(hi[1], hi_real[1])      # lo only
    assert torch.equal(lo[2], q_lo[2]) and not torch.equal(hi[2], hi_real[2])      # hi only
    assert torch.equal(truth, mask)


def _falls(loss_fn, params, steps: int = 30, lr: float = 0.05) -> tuple[float, float]:
    """(first, last) loss of ``steps`` Adam steps on ``params``."""
    opt = torch.optim.Adam(params, lr=lr)
    first = None
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    return first, float(loss_fn().detach())


def test_vq_vae_loss_is_zero_for_a_perfect_reconstruction_and_falls():
    torch.manual_seed(0)
    image = torch.rand(2, 3, 8, 8, generator=_gen(0))
    zero, parts = vq_vae_loss(image.clone(), image, [torch.zeros(()), torch.zeros(())])
    assert float(zero) == 0.0 and parts == {"l2": 0.0, "commitment": 0.0}
    code = torch.randn(2, 4, 4, 4, generator=_gen(1))
    z = nn.Parameter(torch.zeros(2, 4, 4, 4))
    decoder = nn.Sequential(nn.Upsample(scale_factor=2.0), nn.Conv2d(4, 3, 3, padding=1))

    def loss() -> torch.Tensor:
        return vq_vae_loss(decoder(z), image, [0.25 * nn.functional.mse_loss(z, code)])[0]

    first, last = _falls(loss, [z, *decoder.parameters()])
    assert last < 0.5 * first


def test_object_stage_loss_is_minimal_for_the_right_answer_and_falls():
    torch.manual_seed(0)
    image = torch.rand(2, 3, 8, 8, generator=_gen(0))
    mask = torch.zeros(2, 1, 8, 8)
    mask[:, :, 2:5, 3:6] = 1.0
    sure = torch.cat([1.0 - mask, mask], 1) * 40.0 - 20.0  # confident and right
    feats = [torch.randn(2, 4, 4, 4, generator=_gen(2))]
    best, parts = object_stage_loss(image, image.clone(), sure, mask, feats, [f.clone() for f in feats])
    assert float(best) < 1e-6 and parts["l2_image"] == 0.0 and parts["l2_features"] == 0.0
    wrong, _ = object_stage_loss(image, image.clone(), -sure, mask)
    assert float(wrong) > 1.0
    # toy: the anomaly is visible in the input; a 1x1 conv head learns it, a decoder the image
    seen = torch.cat([image, mask], 1)
    head, decoder = nn.Conv2d(4, 2, 1), nn.Conv2d(4, 3, 3, padding=1)
    restore = nn.Parameter(torch.zeros(2, 4, 4, 4))

    def loss() -> torch.Tensor:
        return object_stage_loss(image, decoder(seen), head(seen), mask, [restore], feats)[0]

    first, last = _falls(loss, [restore, *head.parameters(), *decoder.parameters()])
    assert last < 0.5 * first
    with pytest.raises(ValueError):
        object_stage_loss(image, image, sure, mask[:, :, :4, :4])
    with pytest.raises(ValueError):
        object_stage_loss(image, image, sure, mask, feats, [])


def test_upsampling_loss_at_full_resolution_is_the_focal_loss_and_falls():
    torch.manual_seed(0)
    mask = _perlin_masks(2, 16, seed=5)
    sure = torch.cat([1.0 - mask, mask], 1) * 40.0 - 20.0
    assert float(upsampling_loss(sure, mask)[0]) < 1e-6
    assert float(upsampling_loss(torch.zeros(2, 2, 16, 16), mask)[0]) == pytest.approx(
        float(mask_focal_loss(torch.zeros(2, 2, 16, 16), mask)))
    coarse = nn.functional.interpolate(mask, scale_factor=0.25, mode="area")  # what it refines
    head = nn.Sequential(nn.Upsample(scale_factor=4.0, mode="bilinear"), nn.Conv2d(1, 8, 3, padding=1),
                         nn.ReLU(), nn.Conv2d(8, 2, 3, padding=1))
    first, last = _falls(lambda: upsampling_loss(head(coarse), mask)[0], list(head.parameters()), steps=40)
    assert last < 0.5 * first
    with pytest.raises(ValueError):
        upsampling_loss(sure, mask[:, :, ::2, ::2])
