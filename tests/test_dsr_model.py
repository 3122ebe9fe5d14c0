"""DSR networks (core/model/dsr): sizes, shapes, the quantiser's three properties."""

import pytest
import torch
import torch.nn.functional as F

from core.model.dsr import DsrConfig, DsrModel, DsrVqVae, VectorQuantiser, count_parameters

# --- the paper configuration's parameter counts, derived from the OFFICIAL layer definitions --
# (VitjanZ/DSR_anomaly_detection, discrete_model.py and dsr_model.py, sizes from train_dsr.py:
# num_hiddens 128, num_residual_hiddens 64, num_residual_layers 2, embedding_dim 128,
# num_embeddings 4096; subspace restriction embedding_size 128; U-Net base_width 64).
# A conv or transposed conv k x k, cin -> cout, has cin*cout*k*k weights + cout biases;
# residual convs have no bias; InstanceNorm2d (affine=False) has none.
#   residual stack (2 layers, 128 ch): 2 * (128*64*9 + 64*128) = 163,840
#   fine encoder (EncoderBot):   3->64 k4: 3,136; 64->128 k4: 131,200; 128->128 k3: 147,584;
#                                stack 163,840                                    = 445,760
#   coarse encoder (EncoderTop): 128->128 k4: 262,272; 128->128 k3: 147,584; stack = 573,696
#   pre-VQ 1x1: coarse 128->128: 16,512; fine 256->128: 32,896
#   upsample_t (ConvT k4 128->128): 262,272
#   general decoder (DecoderBot): 256->128 k3: 295,040; stack 163,840; ConvT 128->64 k4:
#                                131,136; ConvT 64->3 k4: 3,075                   = 593,091
#   VQ-VAE learnt parameters: 445,760+573,696+16,512+32,896+262,272+593,091   = 1,924,227
#   (the official code also registers each codebook and its EMA sum as nn.Parameters,
#   2 * 2 * 4096*128 = 2,097,152 more; here they are buffers, learnt by EMA only)
#   subspace restriction (w 128): encoder 128->128->128: 295,168; 128->256->256: 885,248;
#     256->512->512: 3,539,968; decoder up 512->256: 1,179,904; 256->256 x2: 1,180,160;
#     up 256->128: 295,040; 128->128 x2: 295,168; out 128->128: 147,584      = 7,818,240 each
#   object decoder (ImageReconstructionNetwork, in 256): 256->256: 590,080; 256->512:
#     1,180,160; 512->512: 2,359,808; 512->1024: 4,719,616; 1x1 1024->64: 65,600; ConvT
#     64->64 k4 x2: 131,200; 64->128 k3: 73,856; stack 163,840; ConvT 128->64: 131,136;
#     ConvT 64->3: 3,075                                                      = 9,418,371
#   U-Net (w 64, in c): encoder c*576+64 + 36,928 + 221,440 + 885,248 + 1,180,160; decoder
#     up1 590,080; db1 1,769,984; up2 295,040; db2 442,624; up3 73,792; db3 110,720;
#     out 64->2: 1,154 -> 576*c + 5,607,234: detector (c = 6) 5,610,690, upsampler (c = 8) 5,611,842
#   total 1,924,227 + 2*7,818,240 + 9,418,371 + 5,610,690 + 5,611,842       = 38,201,610
PAPER_COUNTS = {"vqvae": 1_924_227, "restrict_fine": 7_818_240, "restrict_coarse": 7_818_240,
                "object_decoder": 9_418_371, "detector": 5_610_690, "upsampler": 5_611_842}
VQVAE_COUNTS = {"fine_encoder": 445_760, "coarse_encoder": 573_696, "pre_quant_coarse": 16_512,
                "pre_quant_fine": 32_896, "upsample_coarse": 262_272, "general_decoder": 593_091,
                "quant_coarse": 0, "quant_fine": 0}
EXACT = "donot_use_mm_for_euclid_dist"  # cdist by explicit differences, not the matmul expansion


def test_paper_configuration_matches_official_parameter_counts():
    model = DsrModel(DsrConfig.paper())
    assert {n: count_parameters(m) for n, m in model.named_children()} == PAPER_COUNTS
    assert {n: count_parameters(m) for n, m in model.vqvae.named_children()} == VQVAE_COUNTS
    assert count_parameters(model) == 38_201_610
    # the paper's codebooks: 4,096 codes of 128 dimensions at each level, buffers not parameters
    for q in (model.vqvae.quant_fine, model.vqvae.quant_coarse):
        assert q.embedding.shape == (4096, 128)
        assert all(p is not q.embedding for p in model.parameters())
    state = model.state_dict()
    assert state["vqvae.quant_fine.embedding"].shape == (4096, 128)  # travels with the weights


def test_configurations_are_ordered_and_round_trip():
    sizes = [count_parameters(DsrModel(c)) for c in (DsrConfig.tiny(), DsrConfig.cpu())]
    assert sizes[0] < sizes[1] < 38_201_610
    cfg = DsrConfig.cpu()
    assert DsrConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ValueError):
        DsrConfig.from_dict({**cfg.to_dict(), "width": 3})
    with pytest.raises(ValueError):
        DsrConfig(hidden=7)


@pytest.mark.parametrize("size", [(64, 64), (96, 128)])
def test_stage_shapes(size):
    torch.manual_seed(0)
    cfg = DsrConfig.tiny()
    model = DsrModel(cfg).eval()
    h, w = size
    d = cfg.embedding_dim
    with torch.no_grad():
        out = model.stages(torch.rand(2, 3, h, w))
        q = out.quantised
    assert q.fine_features.shape == (2, cfg.hidden, h // 4, w // 4)
    assert q.z_fine.shape == q.q_fine.shape == out.restored_fine.shape == (2, d, h // 4, w // 4)
    assert q.z_coarse.shape == q.q_coarse.shape == out.restored_coarse.shape == (2, d, h // 8, w // 8)
    assert q.index_fine.shape == (2, h // 4, w // 4) and q.index_coarse.shape == (2, h // 8, w // 8)
    for image in (out.object_image, out.general_image):
        assert image.shape == (2, 3, h, w)
    assert out.coarse_logits.shape == out.logits.shape == (2, 2, h, w)
    # quantised maps hold codebook rows (z + (q - z) rounds to q within float precision);
    # restored maps too (re-quantised with the same codebook)
    fine_codes = model.vqvae.quant_fine.embedding
    assert torch.allclose(q.q_fine, model.vqvae.quant_fine.lookup(q.index_fine), atol=1e-6)
    flat = out.restored_fine.permute(0, 2, 3, 1).reshape(-1, d)
    assert torch.cdist(flat, fine_codes, compute_mode=EXACT).min(dim=1).values.max() < 1e-5


def test_forward_wiring_follows_official_inference():
    torch.manual_seed(0)
    model = DsrModel(DsrConfig.tiny()).eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        out = model.stages(x)
        rebuilt, logits = model(x)
        assert torch.equal(rebuilt, out.object_image)
        vq = model.vqvae
        assert torch.equal(out.general_image, vq.general_decoder(
            torch.cat((vq.upsample_coarse(out.quantised.q_coarse), out.quantised.q_fine), 1)))
        assert torch.equal(out.object_image, model.object_decoder(
            torch.cat((vq.upsample_coarse(out.restored_coarse), out.restored_fine), 1)))
        # detector sees (object-specific, general); upsampler those and the detector's softmax
        assert torch.equal(out.coarse_logits, model.detector.unet(
            torch.cat((out.object_image, out.general_image), 1)))
        assert torch.equal(logits, model.upsampler.unet(torch.cat(
            (out.object_image, out.general_image, out.coarse_logits.softmax(1)), 1)))
    with pytest.raises(ValueError):
        model(torch.rand(1, 3, 80, 64))  # not a multiple of 32
    with pytest.raises(ValueError):
        model(torch.rand(1, 3, 32, 32))  # too small for the restriction's bottleneck


def test_inference_never_moves_the_codebooks_even_in_train_mode():
    model = DsrModel(DsrConfig.tiny()).train()
    before = {k: v.clone() for k, v in model.state_dict().items() if "quant_" in k}
    model(torch.rand(2, 3, 64, 64))
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_official_initialisation_of_object_decoder_and_detector():
    torch.manual_seed(0)
    model = DsrModel(DsrConfig.cpu())
    convs = (torch.nn.Conv2d, torch.nn.ConvTranspose2d)
    for part in (model.object_decoder, model.detector):
        w = torch.cat([m.weight.flatten() for m in part.modules() if isinstance(m, convs)])
        assert abs(w.mean().item()) < 1e-3 and abs(w.std().item() - 0.02) < 1e-3
    # the upsampler keeps PyTorch's default (kaiming-uniform), as in the official code
    first = model.upsampler.unet.enc[0][0].weight
    assert first.std().item() > 0.05


# --- the quantiser ---------------------------------------------------------------------------

def test_nearest_code_equals_brute_force_reference():
    torch.manual_seed(1)
    vq = VectorQuantiser(300, 16).double().eval()
    z = torch.randn(3, 16, 11, 13, dtype=torch.float64)
    q, loss, idx = vq(z)
    flat = z.permute(0, 2, 3, 1).reshape(-1, 16)
    reference = torch.cdist(flat, vq.embedding, compute_mode=EXACT).argmin(dim=1)
    assert torch.equal(idx.flatten(), reference)
    assert torch.allclose(q.permute(0, 2, 3, 1).reshape(-1, 16), vq.embedding[reference])
    # commitment loss: cost * mean squared distance to the chosen codes
    expected = 0.25 * (flat - vq.embedding[reference]).pow(2).mean()
    assert torch.allclose(loss, expected)


def test_straight_through_gradient():
    torch.manual_seed(2)
    vq = VectorQuantiser(64, 8).eval()
    z = torch.randn(2, 8, 4, 4, requires_grad=True)
    q, _, _ = vq(z)
    weights = torch.randn_like(q)
    (q * weights).sum().backward()
    assert torch.equal(z.grad, weights)  # the quantised map's gradient passes to z unchanged


def test_gradient_reaches_both_encoders_through_the_quantisers():
    torch.manual_seed(3)
    vqvae = DsrVqVae(DsrConfig.tiny()).eval()  # eval: only the straight-through path counts
    x = torch.rand(2, 3, 64, 64)
    rec, _, _ = vqvae(x)
    F.mse_loss(rec, x).backward()  # reconstruction only: no commitment term
    for part in (vqvae.fine_encoder, vqvae.coarse_encoder, vqvae.pre_quant_coarse):
        grads = [p.grad for p in part.parameters()]
        assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_ema_update_moves_used_codes_and_leaves_unused_alone():
    torch.manual_seed(4)
    k, d = 32, 4
    vq = VectorQuantiser(k, d, decay=0.9).train()
    z = torch.randn(1, d, 8, 8) * 0.3 + 2.0  # a cloud away from most N(0, 1) codes
    flat = z.permute(0, 2, 3, 1).reshape(-1, d)
    before = vq.embedding.clone()
    idx = vq.nearest(flat)
    used = torch.zeros(k, dtype=torch.bool)
    used[idx] = True
    assert 0 < used.sum() < k
    vq(z)
    # unused codes: bit-for-bit unchanged
    assert torch.equal(vq.embedding[~used], before[~used])
    # used codes: from fresh statistics, the first update is the mean of the assigned
    # features (up to the epsilon smoothing of the counts)
    for code in torch.nonzero(used).flatten():
        mean = flat[idx == code].mean(0)
        assert torch.allclose(vq.embedding[code], mean, atol=1e-3)
        assert (vq.embedding[code] - mean).norm() < (before[code] - mean).norm()
    # a second step: exponential moving average of the per-step sums and counts
    after_one = vq.embedding.clone()
    z2 = z + 0.5
    flat2 = z2.permute(0, 2, 3, 1).reshape(-1, d)
    idx2 = vq.nearest(flat2)
    vq(z2)
    for code in idx2.unique():
        n1, s1 = (idx == code).sum(), flat[idx == code].sum(0)
        n2, s2 = (idx2 == code).sum(), flat2[idx2 == code].sum(0)
        expected = (0.9 * 0.1 * s1 + 0.1 * s2) / (0.9 * 0.1 * n1 + 0.1 * n2)
        assert torch.allclose(vq.embedding[code], expected, atol=1e-3)
    untouched = torch.ones(k, dtype=torch.bool)
    untouched[idx2] = False
    assert torch.equal(vq.embedding[untouched], after_one[untouched])


def test_dead_codes_restart_on_batch_features_after_the_set_number_of_updates():
    torch.manual_seed(5)
    k, d = 32, 4
    vq = VectorQuantiser(k, d, restart_after=2).train()
    z = torch.randn(1, d, 8, 8) * 0.3 + 2.0  # a cloud away from most N(0, 1) codes
    flat = z.permute(0, 2, 3, 1).reshape(-1, d)
    used = torch.zeros(k, dtype=torch.bool)
    used[vq.nearest(flat)] = True
    start = vq.embedding.clone()
    vq(z)  # one update: the unused codes have waited 1 of 2
    assert torch.equal(vq.embedding[~used], start[~used])
    vq(z)  # second: every code unused twice now sits on one of the batch's features
    dead = ~used
    dist = (vq.embedding[dead][:, None] - flat[None]).norm(dim=2).min(dim=1).values
    assert float(dist.max()) < 1e-6
    assert torch.all(vq.ema_cluster_size[dead] == 1.0)
    assert "unused_steps" not in vq.state_dict()  # a training aid: bundles do not change
    vq.eval()(z)  # inference never restarts
    frozen = vq.embedding.clone()
    vq.train()(z + 5.0, update=False)
    assert torch.equal(vq.embedding, frozen)
    with pytest.raises(ValueError, match="restart_after"):
        VectorQuantiser(k, d, restart_after=-1)


def test_codebook_learns_only_when_updating():
    vq = VectorQuantiser(16, 4)
    z = torch.randn(2, 4, 5, 5)
    start = vq.embedding.clone()
    vq.eval()(z)
    vq.train()(z, update=False)
    assert torch.equal(vq.embedding, start)
    vq.train()(z)
    assert not torch.equal(vq.embedding, start)
    assert not any(t is vq.embedding for t in vq.parameters())  # no optimiser can touch it


def test_vqvae_fits_one_image_in_a_few_steps():
    torch.manual_seed(5)
    vqvae = DsrVqVae(DsrConfig.tiny()).train()
    opt = torch.optim.Adam(vqvae.parameters(), lr=3e-3)
    x = torch.rand(1, 3, 32, 32)
    losses = []
    for _ in range(25):
        rec, commitment, _ = vqvae(x)
        loss = F.mse_loss(rec, x) + commitment
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) < 0.5 * sum(losses[:5])


def test_stage_two_step_fits_the_anomaly_generation_and_losses():
    """One object-specific training step wired as the official train_dsr.py, with the pieces
    of core/model/dsr/anomaly.py and losses.py: gradients reach the restriction modules and
    the object decoder (and the detector), never the fixed VQ-VAE or its codebooks."""
    from functools import partial
    from core.model.dsr.anomaly import choose_levels, two_level_anomalies
    from core.model.dsr.losses import object_stage_loss

    gen = torch.Generator().manual_seed(6)
    model = DsrModel(DsrConfig.tiny())
    model.vqvae.eval().requires_grad_(False)
    vq = model.vqvae
    codebooks = [vq.quant_fine.embedding.clone(), vq.quant_coarse.embedding.clone()]
    image = torch.rand(2, 3, 64, 64)
    mask = torch.zeros(2, 1, 64, 64)
    mask[:, :, 16:40, 8:48] = 1.0
    with torch.no_grad():
        q = vq.quantise(image)
        choice = choose_levels(2, gen)
        lo, hi, hi_real, truth = two_level_anomalies(
            q.z_coarse, q.q_coarse, vq.quant_coarse.embedding, partial(vq.fine_level, q.fine_features),
            vq.quant_fine.embedding, mask, choice, 0.5, 0.5, gen)
    feat_hi, rest_hi, _ = model.restrict_fine(hi, vq.quant_fine)
    feat_lo, rest_lo, _ = model.restrict_coarse(lo, vq.quant_coarse)
    object_image = model.object_decoder(vq.join(rest_hi, rest_lo))
    general_image = vq.decode(hi, lo)
    seg = model.detector(object_image.detach(), general_image.detach())
    loss, parts = object_stage_loss(image, object_image, seg, truth,
                                    (feat_hi, feat_lo), (hi_real, q.q_coarse))
    loss.backward()
    assert torch.isfinite(loss) and set(parts) == {"focal", "l2_image", "l2_features"}
    for part in (model.restrict_fine, model.restrict_coarse, model.object_decoder, model.detector):
        assert all(p.grad is not None for p in part.parameters())
    assert all(p.grad is None for p in vq.parameters())
    assert torch.equal(vq.quant_fine.embedding, codebooks[0])
    assert torch.equal(vq.quant_coarse.embedding, codebooks[1])
