import threading

import numpy as np
import pytest
import torch

from core.training.checkpoint import load_checkpoint
from core.training.data import SynthDataset, load_image_set, make_simulator, split_holdout
from core.training.presets import get_preset
from core.training.schedule import lr_factor
from core.training.trainer import TrainingCancelled, TrainSettings, train
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
    assert lr_factor(0 / 100) == 1.0
    assert lr_factor(79 / 100) == 1.0
    assert lr_factor(80 / 100) == pytest.approx(0.2)
    assert lr_factor(90 / 100) == pytest.approx(0.04)


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


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
def test_training_is_deterministic_under_seed(images, device):
    """Exact on the CPU; on CUDA exact with deterministic kernels (``deterministic=True``)."""
    runs = [train(images, make_simulator(None, False), _settings(steps=3, device=device, deterministic=True))
            for _ in range(2)]
    assert [h["loss"] for h in runs[0].history] == [h["loss"] for h in runs[1].history]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_autotuned_training_is_reproducible_within_a_tolerance(images):
    """cuDNN autotuning (the default on a GPU) may pick other kernels run to run: the losses
    then agree to about 1 %, not bit for bit (up to 0.6 % measured on an H200)."""
    runs = [train(images, make_simulator(None, False), _settings(steps=6, device="cuda")) for _ in range(2)]
    np.testing.assert_allclose([h["loss"] for h in runs[0].history], [h["loss"] for h in runs[1].history],
                               rtol=2e-2)


@pytest.mark.parametrize("device", DEVICES)
def test_cancel_then_resume_continues_from_checkpoint(images, tmp_path, device):
    ck = tmp_path / "run.ckpt"
    cancel = threading.Event()
    kw = dict(steps=12, device=device, deterministic=True)

    def stop_at_6(p):
        if p.step == 6:
            cancel.set()

    with pytest.raises(TrainingCancelled):
        train(images, make_simulator(None, False), _settings(checkpoint=ck, **kw),
              progress=stop_at_6, cancel=cancel)
    assert load_checkpoint(ck)["step"] == 6
    resumed = train(images, make_simulator(None, False), _settings(checkpoint=ck, **kw))
    assert resumed.resumed_from == 6 and resumed.steps == 12
    straight = train(images, make_simulator(None, False), _settings(**kw))
    a = [h["loss"] for h in resumed.history]
    b = [h["loss"] for h in straight.history]
    assert len(a) == 12
    # same samples, same optimiser state: equal up to the float rounding of the saved state
    np.testing.assert_allclose(a, b, rtol=1e-4)


def test_checkpoint_of_another_run_is_refused(images, tmp_path):
    ck = tmp_path / "run.ckpt"
    cancel = threading.Event()
    with pytest.raises(TrainingCancelled):
        train(images, make_simulator(None, False), _settings(steps=5, checkpoint=ck),
              progress=lambda p: cancel.set(), cancel=cancel)
    with pytest.raises(ValueError, match="another run"):
        train(images, make_simulator(None, False), _settings(steps=5, checkpoint=ck, seed=99))


class FakeClock:
    """Time moves only when a training sample is made: a step of the tiny preset (batch 4)
    'takes' 4 x ``sample_s``, whatever the machine's speed or load."""

    def __init__(self, sample_s: float) -> None:
        self.t, self.sample_s = 1000.0, sample_s

    def __call__(self) -> float:
        return self.t


class TickingSimulator:
    def __init__(self, sim, clock: FakeClock) -> None:
        self.sim, self.clock = sim, clock

    def __call__(self, image, rng, donor=None):
        self.clock.t += self.clock.sample_s
        return self.sim(image, rng, donor)


def test_time_budget_fits_schedule_with_decay(images):
    clock = FakeClock(0.125)  # 0.5 s a step
    totals = []
    out = train(images, TickingSimulator(make_simulator(None, False), clock),
                _settings(minutes=0.1, steps=None, clock=clock), progress=lambda p: totals.append(p.total))
    lrs = [h["lr"] for h in out.history]
    assert out.steps == 12 and out.seconds == pytest.approx(6.0)  # 6 s of budget, 0.5 s a step
    assert lrs[:9] == [pytest.approx(1e-4)] * 9  # the decays land at 80 % and 90 % of the time
    assert lrs[9] == pytest.approx(2e-5) and lrs[10:] == [pytest.approx(4e-6)] * 2
    assert totals[0] is None and totals[-1] == 12  # unknown until step times were measured


def test_a_budgeted_run_cancelled_before_its_total_is_known_resumes(images, tmp_path):
    clock = FakeClock(0.125)
    ck = tmp_path / "ck.pt"
    settings = _settings(minutes=0.1, steps=None, clock=clock, checkpoint=ck)
    cancel = threading.Event()
    with pytest.raises(TrainingCancelled, match="cancelled at step 1$"):  # no 'of N': not known
        train(images, TickingSimulator(make_simulator(None, False), clock), settings,
              progress=lambda p: cancel.set(), cancel=cancel)
    assert load_checkpoint(ck)["step"] == 1 and load_checkpoint(ck)["total"] is None
    totals = []
    out = train(images, TickingSimulator(make_simulator(None, False), clock), settings,
                progress=lambda p: totals.append(p.total))
    assert out.resumed_from == 1 and totals[-1] == out.steps > 1


def test_cosine_schedule_with_warmup():
    from core.training.schedule import lr_factor

    assert lr_factor(0.0, "cosine", 0.1) == pytest.approx(1e-3)
    assert lr_factor(0.05, "cosine", 0.1) == pytest.approx(0.5)
    assert lr_factor(0.1, "cosine", 0.1) == pytest.approx(1.0)
    assert lr_factor(0.55, "cosine", 0.1) == pytest.approx(0.51)
    assert lr_factor(1.0, "cosine", 0.1) == pytest.approx(0.02)
    assert lr_factor(0.85, "step") == pytest.approx(0.2) and lr_factor(0.95, "step") == pytest.approx(0.04)


def test_moving_average_is_what_training_returns(images):
    preset = get_preset("tiny", ema=0.5)
    out = train(images, make_simulator(None, False), _settings(preset=preset, steps=4))
    plain = train(images, make_simulator(None, False), _settings(steps=4))
    assert [h["loss"] for h in out.history] == [h["loss"] for h in plain.history]  # same optimisation
    w_avg = out.model.reconstructive.out.weight
    w_last = plain.model.reconstructive.out.weight
    assert not torch.equal(w_avg, w_last)


def _bundle(tmp_path, rw, dw, seed=1):
    from core.inference.bundle import save_bundle
    from core.model.draem import DraemModel

    torch.manual_seed(seed)
    model = DraemModel(rw, dw)
    meta = {"preset": "tiny", "recon_width": rw, "disc_width": dw, "image_size": [64, 64], "kind": "base"}
    return save_bundle(tmp_path / f"base{rw}x{dw}.limodel", model.state_dict(), meta), model


def test_warm_start_begins_from_the_given_weights(images, tmp_path):
    path, base = _bundle(tmp_path, 8, 4)
    preset = get_preset("tiny", lr=1e-12)
    out = train(images, make_simulator(None, False), _settings(preset=preset, steps=1, init_from=path))
    assert out.started_from["from"] == str(path) and out.started_from["kind"] == "base"
    for name, p in base.named_parameters():
        torch.testing.assert_close(dict(out.model.named_parameters())[name], p, atol=1e-9, rtol=0)


def test_resumed_run_still_says_where_it_started(images, tmp_path):
    path, _ = _bundle(tmp_path, 8, 4)
    ck = tmp_path / "run.ckpt"
    cancel = threading.Event()
    kw = dict(steps=6, init_from=path, checkpoint=ck)
    with pytest.raises(TrainingCancelled):
        train(images, make_simulator(None, False), _settings(**kw),
              progress=lambda p: cancel.set() if p.step == 3 else None, cancel=cancel)
    resumed = train(images, make_simulator(None, False), _settings(**kw))
    assert resumed.resumed_from == 3 and resumed.started_from["from"] == str(path)


def test_warm_start_with_other_widths_is_refused_clearly(images, tmp_path):
    path, _ = _bundle(tmp_path, 16, 8)
    with pytest.raises(ValueError, match=r"widths 16/8, the preset needs 8/4"):
        train(images, make_simulator(None, False), _settings(steps=1, init_from=path))
    with pytest.raises(ValueError, match="not found"):
        train(images, make_simulator(None, False), _settings(steps=1, init_from=tmp_path / "nope.limodel"))
    with pytest.raises(ValueError, match="base model 'base-99x1' not found"):
        train(images, make_simulator(None, False), _settings(preset=get_preset("tiny", base="base-99x1"),
                                                             steps=1))


def test_default_workers_follow_the_cores():
    from core.training.trainer import default_workers

    assert default_workers(False, 16) == 1
    assert default_workers(True, 16) == 8 and default_workers(True, 4) == 3 and default_workers(True, 1) == 1


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


@pytest.mark.parametrize("field, value, message", [
    ("schedule", "linear", "schedule must be one of"), ("anomalies", "dtd", "anomalies must be one of"),
    ("input_mode", "crop", "input_mode must be one of"), ("warmup", 1.0, "warmup must be in"),
    ("ema", -0.1, "ema must be in"), ("crop", 100, "crop must be a multiple of 32"),
    ("max_side", 64, "max_side must be 0"), ("overlap", 64, "overlap must be in"), ("batch_size", 0, "batch_size must be"),
    ("minutes", 0, "minutes must be in"), ("lr", 0.0, "lr must be positive"),
])
def test_preset_fields_are_validated(field, value, message):
    with pytest.raises(ValueError, match=message):
        get_preset("fast", **{field: value})


def test_fast_preset_inspects_a_400_pixel_frame_at_the_cost_of_a_256_pixel_image():
    """The live budget: the fast preset's scale brings the simulated camera's 400x400 frame
    to 256x256, four 128-pixel tiles without overlap (16 at the camera's own pixels)."""
    from core.inference.tiling import InputSpec, TileGrid
    from core.training.data import auto_scale

    fast = get_preset("fast")
    assert fast.train_size == fast.image_size       # trained on crops the size of a tile
    spec = InputSpec("tiles", auto_scale([(400, 400)], fast.max_side), fast.overlap)
    grid = TileGrid(spec.scaled_size((400, 400)), fast.image_size, spec.overlap)
    assert len(grid) * fast.image_size[0] * fast.image_size[1] == 256 * 256
    assert len(TileGrid((400, 400), fast.image_size, spec.overlap)) == 16
