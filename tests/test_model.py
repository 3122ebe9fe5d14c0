import torch

from core.model.draem import DraemModel, count_parameters


def test_paper_widths_have_official_parameter_count():
    model = DraemModel(recon_width=128, disc_width=64)
    assert count_parameters(model) == 97_422_725


def test_widths_scale_parameter_count():
    small = count_parameters(DraemModel(32, 16))
    assert small < count_parameters(DraemModel(64, 32)) < 97_422_725
    # conv weights dominate and scale with width^2
    assert 14 < count_parameters(DraemModel(128, 64)) / small < 17


def test_initialisation_follows_official_code():
    torch.manual_seed(0)
    model = DraemModel(32, 16)
    convs = torch.cat([m.weight.flatten() for m in model.modules() if isinstance(m, torch.nn.Conv2d)])
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    gammas = torch.cat([m.weight.flatten() for m in bns])
    assert abs(convs.mean().item()) < 1e-3 and abs(convs.std().item() - 0.02) < 1e-3
    assert abs(gammas.mean().item() - 1.0) < 5e-3 and abs(gammas.std().item() - 0.02) < 5e-3
    assert all(torch.all(m.bias == 0) for m in bns)


def test_forward_shapes_and_concatenation_order():
    model = DraemModel(8, 4).eval()
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        rec, logits = model(x)
        assert rec.shape == (2, 3, 64, 96) and logits.shape == (2, 2, 64, 96)
        # discriminative input is cat(reconstruction, image): its first conv sees 6 channels
        first = model.discriminative.enc[0][0]
        assert first.in_channels == 6
        expected = model.discriminative(torch.cat((model.reconstructive(x), x), 1))
        assert torch.allclose(expected, logits)


def test_reconstructive_network_has_no_skip_connections():
    model = DraemModel(8, 4).eval()
    x = torch.rand(1, 3, 64, 64)
    # an encoder-decoder without skips: the output depends on the input only through the
    # bottleneck, so replacing the bottleneck activations changes everything
    feats = {}
    enc = model.reconstructive.enc
    handle = enc[4].register_forward_hook(lambda m, i, o: torch.zeros_like(o))
    with torch.no_grad():
        a = model.reconstructive(x)
        b = model.reconstructive(torch.rand(1, 3, 64, 64))
    handle.remove()
    assert torch.allclose(a, b)
    del feats


def test_anomaly_map_is_the_softmax_of_the_anomalous_class():
    from core.inference.scoring import anomaly_map, image_scores, smoothing_kernel

    torch.manual_seed(0)
    logits = torch.randn(3, 2, 32, 40) * 6.0
    expected = torch.softmax(logits, dim=1)[:, 1]
    assert torch.allclose(anomaly_map(logits), expected, atol=1e-6)
    three = torch.randn(1, 3, 8, 8)  # not two classes: the general softmax path
    assert torch.allclose(anomaly_map(three), torch.softmax(three, dim=1)[:, 1])
    amap = torch.zeros(1, 64, 64)
    amap[0, 30:35, 30:35] = 1.0  # a 5x5 spot under a 5x5 mean filter: the max is exactly 1
    assert smoothing_kernel((64, 64)) == 5
    assert image_scores(amap, 5).item() == 1.0
