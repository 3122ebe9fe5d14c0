"""Model versions: add, activate, rollback, delete; broken bundles never become active."""

import json
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

from core.recipe import Thresholds
from core.store import RecipeStore, VersionError


def _tiny_weights() -> dict:
    import torch

    from core.model.draem import DraemModel

    torch.manual_seed(0)
    return {k: v.numpy() for k, v in DraemModel(8, 8).state_dict().items()}


def make_bundle(path: Path, *, ok=0.3, ng=0.6, pixel=0.5, thresholds=True, **meta) -> Path:
    """A small bundle in the real on-disk format (safetensors + 'lineinspector' metadata)
    with real, tiny weights (a version must load and run once before it is stored)."""
    full = {"format_version": 1, "preset": "tiny", "recon_width": 8, "disc_width": 8,
            "image_size": [64, 64], "created": "2024-05-01T10:00:00+00:00",
            "software_version": "0.1.0", "training_data": "good/ 120 images",
            "validation": {"auroc": 0.99, "false_reject": 0.01}}
    if thresholds:
        full["thresholds"] = {"ok_limit": ok, "ng_limit": ng, "pixel": pixel}
    full.update(meta)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(_tiny_weights(), str(path), metadata={"lineinspector": json.dumps(full)})
    return path


@pytest.fixture
def store(tmp_path):
    s = RecipeStore(tmp_path / "data")
    s.create("bottle", source="genicam:1")
    return s


def test_add_versions_records_provenance(store, tmp_path):
    b = make_bundle(tmp_path / "a.limodel")
    v1 = store.add_version("bottle", b, deployed_by="alice")
    v2 = store.add_version(store.get("bottle"), b, trained_from="run 7",
                           validation={"auroc": 0.5})
    assert (v1, v2) == (1, 2)
    mv1, mv2 = store.versions("bottle")
    assert mv1.deployed_by == "alice" and mv1.trained_from == "good/ 120 images"
    assert mv1.trained_at == "2024-05-01T10:00:00+00:00"
    assert mv1.validation == {"auroc": 0.99, "false_reject": 0.01}
    assert mv2.trained_from == "run 7" and mv2.validation == {"auroc": 0.5}
    assert mv1.bundle_path.read_bytes() == b.read_bytes()
    assert mv1.bundle_path.parent.name == "v0001" and len(mv1.sha256) == 64
    assert store.get("bottle").active_version is None  # adding does not activate
    assert store.active_bundle_path("bottle") is None


@pytest.mark.parametrize("content, message", [
    (None, "not found"),
    (b"", "truncated or empty"),
    (b"\x00" * 3 + b"junk" * 50, "not a model bundle"),
])
def test_broken_bundle_is_refused(store, tmp_path, content, message):
    bad = tmp_path / "bad.limodel"
    if content is not None:
        bad.write_bytes(content)
    with pytest.raises(VersionError, match=message):
        store.add_version("bottle", bad)
    assert store.versions("bottle") == []
    models = store.registry("bottle").dir
    assert not models.exists() or not list(models.iterdir())  # nothing half-copied left


def test_foreign_and_newer_bundles_are_refused(store, tmp_path):
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": np.zeros(1, np.float32)}, str(foreign), metadata={"other": "x"})
    with pytest.raises(VersionError, match="not a LineInspector model bundle"):
        store.add_version("bottle", foreign)
    newer = make_bundle(tmp_path / "newer.limodel", format_version=99)
    with pytest.raises(VersionError, match="newer"):
        store.add_version("bottle", newer)
    odd = make_bundle(tmp_path / "odd.limodel", ok=0.9, ng=0.1)
    with pytest.raises(VersionError, match="ok_limit .0.9. must not exceed ng_limit .0.1."):
        store.add_version("bottle", odd)


def test_activate_adopts_bundle_thresholds_unless_kept(store, tmp_path):
    v1 = store.add_version("bottle", make_bundle(tmp_path / "1.limodel", ok=0.2, ng=0.4))
    v2 = store.add_version("bottle", make_bundle(tmp_path / "2.limodel", ok=0.5, ng=0.7))
    r = store.activate("bottle", v1, by="bob")
    assert r.active_version == 1 and r.thresholds == Thresholds(0.2, 0.4, 0.5)
    assert store.get("bottle") == r
    r = store.activate("bottle", v2, adopt_thresholds=False)
    assert r.active_version == 2 and r.thresholds == Thresholds(0.2, 0.4, 0.5)
    assert store.active_bundle_path("bottle") == store.versions("bottle")[1].bundle_path
    log = store.registry("bottle").activation_log()
    assert [(e["version"], e["action"]) for e in log] == [(1, "activate"), (2, "activate")]
    assert log[0]["by"] == "bob"
    with pytest.raises(VersionError, match="no model version 9"):
        store.activate("bottle", 9)


def test_corrupted_stored_bundle_never_replaces_active(store, tmp_path):
    store.activate("bottle", store.add_version("bottle", make_bundle(tmp_path / "1.limodel")))
    v2 = store.add_version("bottle", make_bundle(tmp_path / "2.limodel", ok=0.1, ng=0.2))
    path = store.version("bottle", v2).bundle_path
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF  # damage the weights, header still fine
    path.write_bytes(bytes(data))
    before = store.recipe_file("bottle").read_text()
    with pytest.raises(VersionError, match="checksum mismatch"):
        store.activate("bottle", v2)
    assert store.recipe_file("bottle").read_text() == before
    assert store.get("bottle").active_version == 1


def test_rollback_walks_back_activation_history(store, tmp_path):
    for i in range(1, 4):
        v = store.add_version("bottle", make_bundle(tmp_path / f"{i}.limodel", ok=i / 10,
                                                    ng=i / 10 + 0.1))
        store.activate("bottle", v)
    r = store.rollback("bottle")
    assert r.active_version == 2 and r.thresholds.ok_limit == pytest.approx(0.2)
    assert store.rollback("bottle").active_version == 1
    with pytest.raises(VersionError, match="no earlier model version"):
        store.rollback("bottle")
    store.activate("bottle", 3)
    assert store.rollback("bottle").active_version == 1  # back to the one before v3 went live


def test_rollback_without_history_uses_older_versions(store, tmp_path):
    for i in (1, 2):
        store.add_version("bottle", make_bundle(tmp_path / f"{i}.limodel"))
    store.activate("bottle", 2)
    (store.registry("bottle").dir / "activations.json").unlink()
    assert store.rollback("bottle").active_version == 1


def test_delete_version_rules(store, tmp_path):
    for i in (1, 2, 3):
        store.add_version("bottle", make_bundle(tmp_path / f"{i}.limodel"))
    store.activate("bottle", 1)
    store.activate("bottle", 2)
    store.activate("bottle", 3)
    with pytest.raises(VersionError, match="is active"):
        store.delete_version("bottle", 3)
    store.delete_version("bottle", 2)
    mv2 = store.version("bottle", 2)
    assert mv2.deleted and mv2.deleted_at and not mv2.bundle_path.exists()
    assert store.rollback("bottle").active_version == 1  # skips the deleted v2
    with pytest.raises(VersionError, match="was deleted"):
        store.activate("bottle", 2)
    store.activate("bottle", 3)
    store.delete_version("bottle", 1)
    v4 = store.add_version("bottle", make_bundle(tmp_path / "4.limodel"))
    assert v4 == 4  # numbers are never reused


def test_missing_active_model_breaks_only_that_recipe(store, tmp_path):
    store.activate("bottle", store.add_version("bottle", make_bundle(tmp_path / "1.limodel")))
    store.create("cap")
    store.active_bundle_path("bottle").unlink()
    listing = store.list()
    assert [r.name for r in listing.recipes] == ["cap"]
    assert "active_version 1: model file" in dict(listing.errors)["bottle"]


def test_create_with_bundle_activates_version_one(tmp_path):
    store = RecipeStore(tmp_path)
    r = store.create("bottle", bundle=make_bundle(tmp_path / "m.limodel", ok=0.25, ng=0.5),
                     deployed_by="carol")
    assert r.active_version == 1 and r.thresholds == Thresholds(0.25, 0.5, 0.5)
    assert store.versions("bottle")[0].deployed_by == "carol"
    r2 = store.create("cap", bundle=make_bundle(tmp_path / "m.limodel"),
                      thresholds=Thresholds(0.1, 0.9, 0.4))
    assert r2.thresholds == Thresholds(0.1, 0.9, 0.4)  # explicit limits win
    (tmp_path / "junk.limodel").write_bytes(b"nope")
    with pytest.raises(VersionError):
        store.create("broken", bundle=tmp_path / "junk.limodel")
    assert not (store.root / "broken").exists()
