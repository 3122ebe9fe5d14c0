"""RecipeStore.deploy: add a bundle as the next version and activate it in one recipe write."""

import pytest

from core.recipe import Preprocessing, Roi, Thresholds, TrainingConfig
from core.store import RecipeStore, VersionError, recipe_file, versions
from tests.test_store_versions import make_bundle


@pytest.fixture
def counted(monkeypatch):
    """Counts the writes of recipe.toml and the SHA-256 passes over a bundle."""
    counts = {"recipe.toml": 0, "sha256": 0}
    real_write, real_sha = recipe_file.atomic_write_text, versions._sha256

    def write(path, text, *a, **kw):
        counts[path.name] = counts.get(path.name, 0) + 1
        return real_write(path, text, *a, **kw)

    def sha(path):
        counts["sha256"] += 1
        return real_sha(path)

    monkeypatch.setattr(recipe_file, "atomic_write_text", write)
    monkeypatch.setattr(versions, "_sha256", sha)
    return counts


def test_a_new_recipe_is_created_activated_and_written_once(tmp_path, counted):
    store = RecipeStore(tmp_path / "data")
    bundle = make_bundle(tmp_path / "m.limodel", ok=0.2, ng=0.4)
    v = store.deploy("cap", bundle, source="sim", roi=Roi(1, 2, 30, 40),
                     preprocessing=Preprocessing(rotate=90), false_reject_target=0.02,
                     training=TrainingConfig("tiny", "paper"), trained_from="samples/",
                     validation={"auroc": 0.97})
    assert v == 1 and counted["recipe.toml"] == 1 and counted["sha256"] == 1
    r = store.get("cap")
    assert (r.active_version, r.activation_stack, r.roi, r.camera.source) == (1, [1], Roi(1, 2, 30, 40), "sim")
    assert r.preprocessing.rotate == 90 and r.false_reject_target == 0.02
    assert r.training == TrainingConfig("tiny", "paper")
    assert r.thresholds == Thresholds(0.2, 0.4, 0.5)  # none proposed: the bundle's calibration
    mv = store.version("cap", 1)
    assert mv.validation == {"auroc": 0.97} and mv.trained_from == "samples/"
    assert [e["action"] for e in store.registry("cap").activation_log()] == ["activate"]


def test_a_retrained_model_replaces_the_active_one_and_keeps_the_rest(tmp_path, counted):
    store = RecipeStore(tmp_path / "data")
    store.create("cap", source="sim", settings={"ExposureTime": 5000}, roi=Roi(0, 0, 8, 8),
                 bundle=make_bundle(tmp_path / "1.limodel"))
    counted["recipe.toml"] = counted["sha256"] = 0
    v = store.deploy("cap", make_bundle(tmp_path / "2.limodel"), source="genicam:7",
                     roi=Roi(0, 0, 16, 16), preprocessing=Preprocessing(rotate=180),
                     thresholds=Thresholds(0.1, 0.3, 0.45))
    assert v == 2 and counted["recipe.toml"] == 1 and counted["sha256"] == 1
    r = store.get("cap")
    assert (r.active_version, r.activation_stack) == (2, [1, 2])
    assert r.thresholds == Thresholds(0.1, 0.3, 0.45)  # proposed limits win over the bundle's
    assert (r.roi, r.camera.source) == (Roi(0, 0, 16, 16), "genicam:7")  # what it was trained on
    assert r.camera.settings == {"ExposureTime": 5000} and r.preprocessing.rotate == 0  # kept
    assert store.rollback("cap").active_version == 1


def test_a_failed_deploy_leaves_the_active_model_and_writes_nothing(tmp_path, counted):
    store = RecipeStore(tmp_path / "data")
    store.create("cap", source="sim", bundle=make_bundle(tmp_path / "1.limodel"))
    before = store.recipe_file("cap").read_bytes()
    counted["recipe.toml"] = 0
    broken = tmp_path / "broken.limodel"
    broken.write_bytes(b"not a model")
    with pytest.raises(VersionError):
        store.deploy("cap", broken, source="other", roi=None)
    with pytest.raises(VersionError, match="ok_limit"):  # malformed calibration: refused up front
        store.deploy("cap", make_bundle(tmp_path / "odd.limodel", ok=0.9, ng=0.1), source="x", roi=None)
    assert counted["recipe.toml"] == 0 and store.recipe_file("cap").read_bytes() == before
    assert [mv.version for mv in store.versions("cap")] == [1]
    with pytest.raises(VersionError):  # a recipe the failed deploy would have created is not left
        store.deploy("new", broken, source="sim", roi=None)
    assert not store.recipe_dir("new").exists()
