import threading

import numpy as np
import pytest
import torch

from core.training.data import SynthDataset, load_image_set, make_simulator, split_holdout
from core.training.presets import get_preset
from core.training.schedule import lr_at
from core.training.trainer import TrainingCancelled, TrainSettings, load_checkpoint, train
from tests._gen import make_mvtec_tree


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    root = make_mvtec_tree(tmp_path_factory.mktemp("ds"), n_train=10)
    paths = sorted((root / "train/good").glob("*.png"))
    return load_image_set(paths, (64, 64)).images


def _settings(**kw):
    base = dict(preset=get_preset("tiny"), seed=3, workers=0, threads=2)
    base.update(kw)
    return TrainSettings(**base)


def test_lr_schedule_matches_official_milestones():
    assert lr_at(0, 100, 1e-4) == 1e-4
    assert lr_at(79, 100, 1e-4) == 1e-4
    assert lr_at(80, 100, 1e-4) == pytest.approx(2e-5)
    assert lr_at(90, 100, 1e-4) == pytest.approx(4e-6)


def test_paper_preset_is_the_official_recipe():
    p = get_preset("paper")
    assert (p.recon_width, p.disc_width, p.image_size, p.batch_size, p.epochs) == (128, 64, (256, 256), 8, 700)
    assert p.total_steps(209) == 700 * 27


def test_dataset_is_deterministic_per_index(images):
    ds = SynthDataset(images, make_simulator(None, grayscale=False), seed=5)
    a, b = ds[17], ds[17]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert a["augmented"].shape == (3, 64, 64) and a["mask"].shape == (1, 64, 64)
    # every image of an epoch is visited exactly once
    n = len(images)
    assert sorted(ds.image_index(k) for k in range(n, 2 * n)) == list(range(n))


def test_training_loss_is_finite_and_falls(images):
    out = train(images, make_simulator(None, False), _settings(steps=30))
    losses = np.array([h["loss"] for h in out.history])
    assert out.steps == 30 and np.all(np.isfinite(losses))
    assert losses[-6:].mean() < losses[:6].mean() * 0.9


def test_training_is_deterministic_under_seed(images):
    runs = [train(images, make_simulator(None, False), _settings(steps=3)) for _ in range(2)]
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]


def test_cancel_then_resume_continues_from_checkpoint(images, tmp_path):
    ck = tmp_path / "run.ckpt"
    cancel = threading.Event()

    def stop_at_6(p):
        if p.step == 6:
            cancel.set()

    with pytest.raises(TrainingCancelled):
        train(images, make_simulator(None, False), _settings(steps=12, checkpoint=ck),
              progress=stop_at_6, cancel=cancel)
    assert load_checkpoint(ck)["step"] == 6
    resumed = train(images, make_simulator(None, False), _settings(steps=12, checkpoint=ck))
    assert resumed.resumed_from == 6 and resumed.steps == 12
    straight = train(images, make_simulator(None, False), _settings(steps=12))
    a = [h["loss"] for h in resumed.history]
    b = [h["loss"] for h in straight.history]
    assert len(a) == 12
    np.testing.assert_allclose(a, b, rtol=1e-4)  # same samples, same optimiser state


def test_checkpoint_of_another_run_is_refused(images, tmp_path):
    ck = tmp_path / "run.ckpt"
    cancel = threading.Event()
    with pytest.raises(TrainingCancelled):
        train(images, make_simulator(None, False), _settings(steps=5, checkpoint=ck),
              progress=lambda p: cancel.set(), cancel=cancel)
    with pytest.raises(ValueError, match="another run"):
        train(images, make_simulator(None, False), _settings(steps=5, checkpoint=ck, seed=99))


def test_time_budget_fits_schedule_with_decay(images):
    out = train(images, make_simulator(None, False), _settings(minutes=0.1, steps=None))
    lrs = [h["lr"] for h in out.history]
    assert out.steps >= 5
    assert out.seconds < 0.1 * 60 + 3
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] < 1e-4  # the decay happened within the budget


def test_holdout_split_is_deterministic_and_disjoint(tmp_path):
    paths = [tmp_path / f"{i}.png" for i in range(20)]
    tr, va = split_holdout(paths, 0.1, seed=1)
    assert len(va) == 2 and not set(tr) & set(va) and split_holdout(paths, 0.1, seed=1) == (tr, va)
    tr, va = split_holdout(paths[:4], 0.5, seed=1)
    assert len(tr) == 4 and va == []  # never below the training minimum


def test_preview_shows_synthetic_sample_and_a_held_out_image(images):
    got = []
    held_out = images[-1]
    train(images[:-1], make_simulator(None, False), _settings(steps=2),
          preview=lambda step, sample: got.append((step, sample)), preview_image=held_out)
    step, sample = got[0]
    assert step == 1
    assert sample["augmented"].shape == (64, 64, 3) and sample["mask"].shape == (64, 64)
    assert sample["val_reconstruction"].shape == (64, 64, 3)
    assert sample["val_anomaly_map"].shape == (64, 64)
    assert 0.0 <= sample["val_anomaly_map"].min() <= sample["val_anomaly_map"].max() <= 1.0
    np.testing.assert_allclose(sample["val_image"], held_out.astype(np.float32) / 255.0, atol=1e-6)


def test_memory_format_follows_device_and_width():
    import torch

    from core.training.trainer import memory_format_for

    assert memory_format_for(16, cuda=False) == torch.channels_last  # fast preset on a CPU
    assert memory_format_for(32, cuda=False) == torch.channels_last
    assert memory_format_for(64, cuda=False) == torch.contiguous_format
    assert memory_format_for(128, cuda=False) == torch.contiguous_format  # paper on a CPU
    assert memory_format_for(128, cuda=True) == torch.channels_last
