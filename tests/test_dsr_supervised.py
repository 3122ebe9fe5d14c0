"""DSR's supervised extension in stages 2 and 3 (core/training/dsr_stages.py ``defects``): real
annotated defects replace a share of each batch and their masks are the targets.

The "real" defects are the test images with a darkened band (the mask marks it). Every check
compares seeded runs on fixed images, so it depends on the numbers only, never on speed.
"""

from __future__ import annotations

import copy
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core.model.dsr import DsrModel
from core.model.dsr.anomaly import feature_mask
from core.model.dsr.losses import mask_focal_loss, upsampling_loss
from core.training.dsr_stages import train_object_specific, train_upsampling
from tests.test_dsr_stages import FAST, SIZE, _images, _same, _state, _stream
from tests.test_dsr_pipeline import _settings, make_base, make_images
from tests.test_dsr_stages import general  # noqa: F401  (the shared stage-1 model fixture)


def _defects(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    images, masks = _images(n, seed=5), torch.zeros(n, 1, SIZE, SIZE)
    images[:, :, 44:50, 8:56] *= 0.25
    masks[:, :, 44:50, 8:56] = 1.0
    return images, masks


def _defect_stream(batch: int = 2):
    images, masks = _defects()
    starts = itertools.cycle(range(0, images.shape[0], batch))
    return ((images[s:s + batch], masks[s:s + batch]) for s in starts)


@torch.no_grad()
def _detector_loss(model: DsrModel) -> float:
    """The anomaly detection module's focal loss on the real defects (its stage-2 target)."""
    images, masks = _defects()
    out = model.eval().stages(images)
    truth = F.interpolate(feature_mask(masks, tuple(out.quantised.q_fine.shape[-2:])), size=(SIZE, SIZE))
    return float(mask_focal_loss(out.coarse_logits, truth))


@torch.no_grad()
def _upsampler_loss(model: DsrModel) -> float:
    images, masks = _defects()
    return float(upsampling_loss(model.eval().stages(images).logits, masks)[0])


def _stage2(general: DsrModel, steps: int = 12, **kw) -> tuple[DsrModel, object]:
    model = copy.deepcopy(general)
    result = train_object_specific(model, _stream(_images()), steps, FAST,
                                   torch.Generator().manual_seed(3), **kw)
    return model, result


def test_stage2_with_real_defects_the_detector_learns_them(general):
    before = _detector_loss(general)
    model, result = _stage2(general, defects=_defect_stream(), defect_share=0.5)
    assert result.steps == 12 and not result.exhausted
    assert set(result.parts) == {"focal", "l2_image", "l2_features"}
    with_defects = _detector_loss(model)
    without = _detector_loss(_stage2(general)[0])
    assert with_defects < 0.5 * before, (before, with_defects)
    assert with_defects < without, (with_defects, without)


def test_real_defects_train_the_detector_never_the_restoration(general):
    """A batch of real defects only: no good counterpart, so the restriction modules and the
    object decoder get no gradient at all and stay bitwise; the detector learns."""
    restoring = ("restrict_fine", "restrict_coarse", "object_decoder")
    before = {n: _state(getattr(general, n)) for n in (*restoring, "vqvae", "detector")}
    model, result = _stage2(general, 4, defects=_defect_stream(), defect_share=1.0)
    assert result.steps == 4 and result.parts["l2_image"] == result.parts["l2_features"] == 0.0
    for name in (*restoring, "vqvae"):
        assert _same(before[name], _state(getattr(model, name))), name
    assert not _same(before["detector"], _state(model.detector))


def test_without_defects_or_with_share_zero_a_stage_is_unchanged(general):
    plain = _stage2(general, 3)[1].losses
    assert _stage2(general, 3, defects=None, defect_share=0.9)[1].losses == plain
    assert _stage2(general, 3, defects=_defect_stream(), defect_share=0.0)[1].losses == plain
    assert _stage2(general, 3, defects=_defect_stream(), defect_share=0.5)[1].losses != plain


def test_a_stage_stops_when_the_defects_run_out(general):
    images, masks = _defects(2)
    _, result = _stage2(general, 10, defects=[(images, masks)], defect_share=0.5)
    assert result.exhausted and result.steps == 2  # one real sample a step, two in all
    with pytest.raises(ValueError, match="defect_share"):
        _stage2(general, 1, defects=[(images, masks)], defect_share=2.0)


def test_stage3_with_real_defects_the_upsampler_learns_them(general):
    model, _ = _stage2(general, 3, defects=_defect_stream(), defect_share=0.5)
    fixed = _state(model.detector)
    before = _upsampler_loss(model)
    result = train_upsampling(model, _stream(_images()), 10, FAST, torch.Generator().manual_seed(5),
                              defects=_defect_stream(), defect_share=0.5)
    assert result.steps == 10 and set(result.parts) == {"focal"}
    assert _upsampler_loss(model) < 0.6 * before, (before, _upsampler_loss(model))
    assert _same(fixed, _state(model.detector))


def _defect_folder(folder: Path) -> Path:
    """Two annotated defects (a dark band, its mask beside it) and one image without a mask."""
    folder.mkdir()
    for i in range(2):
        image = np.full((64, 64, 3), 120, np.uint8)
        image[30:34, 10:50] = 20
        cv2.imwrite(str(folder / f"d{i}.png"), image)
        cv2.imwrite(str(folder / f"d{i}_mask.png"), (image[:, :, 0] < 60).astype(np.uint8) * 255)
    cv2.imwrite(str(folder / "lonely.png"), np.zeros((64, 64, 3), np.uint8))
    return folder


def test_train_dsr_to_bundle_with_defects_uses_and_records_them(tmp_path, monkeypatch):
    from core.inference.bundle import load_bundle
    from core.training import defect_samples
    from core.training.dsr_pipeline import train_dsr_to_bundle

    folder = _defect_folder(tmp_path / "defects")
    taken = []
    real_take = defect_samples.DefectFeed.take
    monkeypatch.setattr(defect_samples.DefectFeed, "take",
                        lambda self, like, gen: taken.append(1) or real_take(self, like, gen))
    base, images = make_base(tmp_path / "b.dsrbase"), make_images(tmp_path / "imgs")
    result = train_dsr_to_bundle(images, tmp_path / "m.limodel", _settings(tmp_path, steps=4),
                                 holdout=0.25, base=base, defects=folder, defect_share=0.5)
    assert len(taken) == 4  # every step of both stages drew its real defects
    record = load_bundle(result.bundle).meta["training_data"]["defects"]
    assert record["images"] == 2 and record["skipped"] == 1 and record["share"] == 0.5
    assert record["sha256"] == [defect_samples.file_digest(folder / f"d{i}.png") for i in range(2)]
    assert [(p.name, why.split(":")[0]) for p, why in result.skipped] == [("lonely.png", "annotated defect")]
    for bad, message in ((tmp_path / "imgs", "no usable annotated defect"), (folder, "defect_share")):
        with pytest.raises(ValueError, match=message):
            train_dsr_to_bundle(images, tmp_path / "n.limodel", _settings(tmp_path, steps=2),
                                base=base, defects=bad, defect_share=0.5 if bad != folder else 2)
        assert not (tmp_path / "n.limodel").exists()


def test_cli_trains_dsr_with_defects_and_refuses_them_for_draem(tmp_path, capsys):
    from core.cli.main import main
    from core.inference.bundle import load_bundle

    make_images(tmp_path / "imgs")
    folder, base = _defect_folder(tmp_path / "defects"), make_base(tmp_path / "b.dsrbase")
    common = ["train", str(tmp_path / "imgs"), "--preset", "tiny", "--steps", "2", "--device",
              "cpu", "--out", str(tmp_path / "m")]
    assert main([*common, "--model", "dsr", "--base", str(base), "--defects", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "learnt from 2 annotated defect image(s)" in out and "lonely.png" in out
    assert load_bundle(tmp_path / "m.limodel").meta["training_data"]["defects"]["images"] == 2
    for extra, message in ((["--defects", str(folder)], "use it with --model dsr"),
                           (["--model", "dsr", "--defects", str(tmp_path / "gone")],
                            "--defects: folder not found")):
        assert main([*common, *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_a_job_spec_takes_defects_for_dsr_only(tmp_path):
    from core.training.job import JobSpec

    spec = JobSpec(data=str(tmp_path), run_dir=str(tmp_path / "run"), model="dsr",
                   defects=str(tmp_path / "defects"))
    assert JobSpec.load(spec.save()).defects == str(tmp_path / "defects")
    for model, defects, message in (("draem", "x", "for model 'dsr' only"),
                                    ("dsr", 3, "folder path or null"), ("dsr", "", "folder path")):
        spec.model, spec.defects = model, defects
        with pytest.raises(ValueError, match=message):
            JobSpec.load(spec.save())


def test_resuming_after_stage_2_needs_the_same_defects(tmp_path):
    """Stage 2 learnt from the defects: a resumed run must record the same ones (else an
    evaluation would count images the model has seen), so other defects, or none, are refused."""
    import threading

    from core.training.dsr_pipeline import train_dsr_to_bundle
    from core.training.trainer import TrainingCancelled

    folder, base = _defect_folder(tmp_path / "defects"), make_base(tmp_path / "b.dsrbase")
    images, out, ck = make_images(tmp_path / "imgs"), tmp_path / "m.limodel", tmp_path / "m.ckpt"
    cancel = threading.Event()
    with pytest.raises(TrainingCancelled, match="stage 3"):
        train_dsr_to_bundle(images, out, _settings(tmp_path, steps=6, checkpoint=ck),
                            holdout=0.25, base=base, defects=folder, cancel=cancel,
                            progress=lambda p: cancel.set() if p.stage == 3 else None)
    for other in (None, tmp_path / "imgs"):
        if other is not None:
            cv2.imwrite(str(other / "g0_mask.png"), np.full((64, 64), 255, np.uint8))
        with pytest.raises(ValueError, match="other annotated defects"):
            train_dsr_to_bundle(images, out, _settings(tmp_path, steps=6, checkpoint=ck),
                                base=base, defects=other)
    result = train_dsr_to_bundle(images, out, _settings(tmp_path, steps=6, checkpoint=ck),
                                 holdout=0.25, base=base, defects=folder)
    assert result.meta["training"]["resumed_after_stage2"] is True
    assert result.meta["training_data"]["defects"]["images"] == 2
