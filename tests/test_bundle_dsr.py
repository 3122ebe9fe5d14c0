"""Issue 15: a bundle names its model kind; DSR bundles are checked, loaded, built and probed
like DRÆM's, and bundles written before DSR (no ``model`` field) still load as DRÆM."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from core.inference.bundle import BundleError, load_bundle, read_bundle_meta, save_bundle
from core.inference.bundle_checks import expected_tensors
from core.model.dsr import DsrConfig, DsrModel
from tests.dsr_fakes import TINY_META, make_tiny_dsr_bundle, tiny_dsr_model

ROOT = Path(__file__).resolve().parents[1]
TINY = DsrConfig.tiny().to_dict()
GOOD = dict(TINY_META, format_version=1, dsr=TINY)


def _raw(path: Path, meta: dict, state=None) -> Path:
    """A bundle file written past save_bundle's checks, as a damaged or foreign one would be."""
    state = tiny_dsr_model().state_dict() if state is None else state
    save_file({k: v.contiguous() for k, v in state.items()}, str(path),
              metadata={"lineinspector": json.dumps(meta)})
    return path


def _refused(path: Path, *words: str) -> str:
    with pytest.raises(BundleError) as exc:
        load_bundle(path)
    msg = str(exc.value)
    assert "\n" not in msg and path.name in msg, msg
    for w in words:
        assert w in msg, msg
    return msg


def test_round_trip_meta_load_build_probe(tmp_path):
    model = tiny_dsr_model(3)
    path = make_tiny_dsr_bundle(tmp_path / "dsr.limodel", model=model)
    meta = read_bundle_meta(path)
    assert meta["model"] == "dsr" and meta["dsr"] == TINY and "recon_width" not in meta
    bundle = load_bundle(path)
    assert bundle.kind == "dsr"
    built = bundle.build_model()
    assert isinstance(built, DsrModel) and built.cfg == DsrConfig.tiny()
    bundle.probe()
    x = torch.rand(1, 3, 64, 64)
    with torch.inference_mode():
        (a_img, a_log), (b_img, b_log) = model(x), built(x)
    assert torch.equal(a_img, b_img) and torch.equal(a_log, b_log)


def test_old_draem_bundles_still_load_as_draem():
    for path in [ROOT / "resources/demo/model.limodel", *sorted((ROOT / "resources/base").glob("*.limodel"))]:
        bundle = load_bundle(path)
        assert "model" not in bundle.meta and bundle.kind == "draem"
        assert type(bundle.build_model()).__name__ == "DraemModel"


def test_unknown_model_kind_refused_naming_the_field(tmp_path):
    _refused(_raw(tmp_path / "m.limodel", dict(GOOD, model="patchcore")), "model", "patchcore")
    _refused(_raw(tmp_path / "n.limodel", dict(GOOD, model=None)), "model")
    with pytest.raises(ValueError, match="model"):
        save_bundle(tmp_path / "s.limodel", {}, dict(GOOD, model="DSR"))


@pytest.mark.parametrize("field, value, words", [
    ("hidden", "8", ("dsr.hidden", "whole number")),
    ("hidden", 8.5, ("dsr.hidden",)),
    ("hidden", True, ("dsr.hidden",)),
    ("hidden", 7, ("hidden", "even")),
    ("codebook_size", 10**9, ("dsr.codebook_size",)),
    ("embedding_dim", 0, ("dsr.embedding_dim",)),
    ("residual_layers", -1, ("dsr.residual_layers",)),
    ("dead_code_restart", -1, ("dsr.dead_code_restart",)),
    ("decay", 1.5, ("decay",)),
    ("decay", "0.99", ("dsr.decay",)),
    ("channels", 1, ("dsr.channels",)),
    ("colour", 3, ("unknown field", "colour")),
])
def test_bad_dsr_sizes_refused_in_one_line(tmp_path, field, value, words):
    meta = dict(GOOD, dsr=dict(TINY, **{field: value}))
    _refused(_raw(tmp_path / "m.limodel", meta), "bad bundle metadata", *words)


def test_every_configuration_the_model_offers_is_a_valid_bundle(tmp_path):
    from core.inference.bundle_checks import dsr_config

    for cfg in (DsrConfig.paper(), DsrConfig.cpu(), DsrConfig.tiny(), DsrConfig(dead_code_restart=0)):
        assert dsr_config({"dsr": cfg.to_dict()}) == cfg


def test_dsr_needs_its_table_not_the_draem_widths(tmp_path):
    meta = {k: v for k, v in GOOD.items() if k != "dsr"}
    _refused(_raw(tmp_path / "a.limodel", dict(meta, recon_width=8, disc_width=4)), "lacks dsr")
    _refused(_raw(tmp_path / "b.limodel", dict(GOOD, dsr=[8, 4])), "dsr must be a table")
    # a DRÆM bundle without its widths is refused as before
    draem = {k: v for k, v in GOOD.items() if k not in ("model", "dsr")}
    _refused(_raw(tmp_path / "c.limodel", draem), "recon_width")


def test_dsr_image_size_rule_and_feature_map_guard(tmp_path):
    _refused(_raw(tmp_path / "a.limodel", dict(GOOD, image_size=[32, 64])), "at least 64")
    _refused(_raw(tmp_path / "b.limodel", dict(GOOD, image_size=[96, 80])), "multiple of 32")
    paper = dict(GOOD, dsr=DsrConfig.paper().to_dict(), image_size=[4096, 4096])
    _refused(_raw(tmp_path / "c.limodel", paper), "GiB", "too large")
    # 4096 x 4096 passes DRÆM's guard at small widths, so the guard is the model's own
    assert read_bundle_meta(_raw(tmp_path / "d.limodel", dict(GOOD, image_size=[1024, 1024])))


def test_weights_of_another_configuration_refused(tmp_path):
    other = DsrModel(DsrConfig(**dict(TINY, codebook_size=16))).state_dict()
    msg = _refused(_raw(tmp_path / "m.limodel", GOOD, other), "do not match", "DSR hidden 8")
    assert "codebook" in msg or "embedding" in msg
    state = tiny_dsr_model().state_dict()
    state["vqvae.quant_fine.embedding"][0, 0] = float("nan")
    _refused(_raw(tmp_path / "n.limodel", GOOD, state), "NaN")
    draem_weights = load_bundle(ROOT / "resources/demo/model.limodel").state_dict
    _refused(_raw(tmp_path / "d.limodel", GOOD, draem_weights), "missing")


def test_expected_tensors_per_kind_without_allocating():
    dsr = expected_tensors(GOOD)
    state = tiny_dsr_model().state_dict()
    assert {k: v[0] for k, v in dsr.items()} == {k: tuple(v.shape) for k, v in state.items()}
    assert expected_tensors(dict(GOOD)) == dsr          # cached by the configuration
    draem = expected_tensors({"recon_width": 8, "disc_width": 4})
    assert not set(draem) & set(dsr)
