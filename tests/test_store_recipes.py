"""Recipes: validation, atomic saves with .prev, listing with broken recipes, data folder."""

import math

import numpy as np
import pytest

from core.recipe import (CameraConfig, Preprocessing, Recipe, RecipeError, Roi, Thresholds,
                         Verdict, apply_preprocessing, verdict_for)
from core.store import RecipeStore, data_dir
from core.store.recipe_file import RECIPE_FILE

GOOD = """\
format_version = 1
name = "{name}"
false_reject_target = 0.02

[camera]
source = "genicam:1234"

[camera.settings]
ExposureTime = 5000.0
PixelFormat = "BayerRG8"

[roi]
x = 10
y = 20
w = 100
h = 50

[thresholds]
ok_limit = 0.3
ng_limit = 0.6
pixel = 0.5
"""


def _write(store: RecipeStore, name: str, text: str) -> None:
    d = store.root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / RECIPE_FILE).write_text(text)


def test_create_save_get_round_trip(tmp_path):
    store = RecipeStore(tmp_path)
    r = store.create("bottle", source="genicam:1", settings={"ExposureTime": 800, "Gain": 1.5},
                     roi=Roi(1, 2, 30, 40), preprocessing=Preprocessing(rotate=90),
                     thresholds=Thresholds(0.2, 0.4, 0.5), false_reject_target=0.05)
    assert store.get("bottle") == r
    text = store.recipe_file("bottle").read_text()
    assert 'source = "genicam:1"' in text and "ok_limit = 0.2" in text  # human-readable TOML
    r.camera.settings["Gain"] = 2.0
    store.save(r)
    assert store.get("bottle").camera.settings["Gain"] == 2.0


def test_save_keeps_previous_version(tmp_path):
    store = RecipeStore(tmp_path)
    r = store.create("cap", thresholds=Thresholds(0.1, 0.2, 0.3))
    first = store.recipe_file("cap").read_text()
    r.thresholds = Thresholds(0.15, 0.25, 0.3)
    store.save(r)
    prev = store.recipe_file("cap").with_name(RECIPE_FILE + ".prev")
    assert prev.read_text() == first
    assert "0.15" in store.recipe_file("cap").read_text()
    assert not [p for p in prev.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize("edit, message", [
    (('ok_limit = 0.3', 'ok_limit = "abc"'),
     "recipe 'bottle': thresholds.ok_limit must be a number, got 'abc'"),
    (('source = "genicam:1234"', 'source = "genicam:1234"\nexposur = 5'),
     "recipe 'bottle': unknown key camera.exposur"),
    (('ok_limit = 0.3', 'ok_limit = 0.9'), "ok_limit (0.9) must not exceed ng_limit (0.6)"),
    (("x = 10", "x = -1"), "roi.x must be >= 0, got -1"),
    (("w = 100\n", ""), "missing key roi.w"),
    (("ok_limit = 0.3", "ok_limit = true"), "thresholds.ok_limit must be a number, got True"),
    (("false_reject_target = 0.02", "false_reject_target = 2.0"), "false_reject_target"),
    (('name = "bottle"', 'name = "other"'), "does not match its folder"),
    (("format_version = 1", "format_version = 99"), "newer than this software"),
    (("[roi]", "[preprocessing]\nrotate = 45\n[roi]"), "preprocessing.rotate must be 0, 90"),
    (("pixel = 0.5", "pixel = 0.5\nextra = 1"), "unknown key thresholds.extra"),
    (("[roi]", "[training]\nanomalies = \"glitter\"\n[roi]"), "training.anomalies must be one of defects, paper"),
    (("[roi]", "[training]\npreset = 3\n[roi]"), "training.preset must be a preset name"),
    (("[roi]", "[training]\nmodel = \"patchcore\"\n[roi]"),
     "training.model must be one of draem, dsr, got 'patchcore'"),
])
def test_validation_names_the_field(tmp_path, edit, message):
    store = RecipeStore(tmp_path)
    old, new = edit
    text = GOOD.format(name="bottle")
    assert old in text
    _write(store, "bottle", text.replace(old, new, 1))
    with pytest.raises(RecipeError) as exc:
        store.get("bottle")
    assert message in str(exc.value)


def test_training_config_round_trips_and_defaults_for_old_recipes(tmp_path):
    from core.recipe import TrainingConfig

    store = RecipeStore(tmp_path)
    _write(store, "bottle", GOOD.format(name="bottle"))  # written before recipes had [training]
    r = store.get("bottle")
    assert r.training == TrainingConfig("fast", "defects")
    r.training = TrainingConfig("thorough", "paper")
    store.save(r)
    assert store.get("bottle").training == TrainingConfig("thorough", "paper")
    assert store.get("bottle").training.model == "draem"  # absent = DRÆM


def test_training_model_is_saved_in_the_training_table(tmp_path):
    import tomllib

    from core.recipe import TrainingConfig

    store = RecipeStore(tmp_path)
    _write(store, "bottle", GOOD.format(name="bottle"))
    r = store.get("bottle")
    r.training = TrainingConfig("fast", "defects", model="dsr")
    store.save(r)
    saved = tomllib.loads(store.recipe_file("bottle").read_text())
    assert saved["training"]["model"] == "dsr"
    assert store.get("bottle").training.model == "dsr"


def test_list_keeps_going_with_broken_recipes(tmp_path):
    store = RecipeStore(tmp_path)
    _write(store, "good", GOOD.format(name="good"))
    _write(store, "typo", GOOD.format(name="typo").replace("[roi]", "[roi]\nz = 1"))
    _write(store, "garbage", "this is = = not toml")
    _write(store, "nomodel", GOOD.format(name="nomodel") + "")
    text = store.recipe_file("nomodel").read_text().replace(
        "false_reject_target", "active_version = 3\nfalse_reject_target")
    store.recipe_file("nomodel").write_text(text)
    (store.root / "empty").mkdir()
    listing = store.list()
    assert [r.name for r in listing.recipes] == ["good"]
    errors = dict(listing.errors)
    assert set(errors) == {"typo", "garbage", "nomodel", "empty"}
    assert "unknown key roi.z" in errors["typo"]
    assert "not valid TOML" in errors["garbage"]
    assert "active_version 3" in errors["nomodel"] and "no model version 3" in errors["nomodel"]
    assert "not found" in errors["empty"]
    # the broken recipe can still be read for repair
    assert store.get("nomodel", check_model=False).active_version == 3


def test_names_and_creation_rules(tmp_path):
    store = RecipeStore(tmp_path)
    for bad in ("../evil", "", "a b", ".hidden", "x" * 65):
        with pytest.raises(RecipeError, match="invalid recipe name"):
            store.create(bad)
    store.create("part-1.A")
    with pytest.raises(RecipeError, match="already exists"):
        store.create("part-1.A")
    with pytest.raises(RecipeError, match="thresholds"):
        store.create("bad", thresholds=Thresholds(0.5, 0.1, 0.5))
    assert not (store.root / "bad").exists()
    with pytest.raises(RecipeError, match="camera.settings.Exposure"):
        store.save(Recipe("part-1.A", camera=CameraConfig("x", {"Exposure": [1, 2]})))


def test_delete_moves_recipe_to_trash(tmp_path):
    store = RecipeStore(tmp_path)
    store.create("gone")
    dst = store.delete("gone")
    assert not store.exists("gone") and (dst / RECIPE_FILE).is_file()
    assert tmp_path / "trash" in dst.parents
    with pytest.raises(RecipeError, match="does not exist"):
        store.delete("gone")


def test_data_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("LINEINSPECTOR_DATA", str(tmp_path / "env"))
    assert data_dir(tmp_path / "opt") == tmp_path / "opt"
    assert data_dir() == tmp_path / "env"
    assert RecipeStore().root == tmp_path / "env" / "recipes"
    monkeypatch.delenv("LINEINSPECTOR_DATA")
    assert "LineInspector" in str(data_dir())


def test_verdict_rule_boundaries():
    assert verdict_for(0.29, 0.3, 0.6) is Verdict.OK
    assert verdict_for(0.3, 0.3, 0.6) is Verdict.REVIEW
    assert verdict_for(0.59, 0.3, 0.6) is Verdict.REVIEW
    assert verdict_for(0.6, 0.3, 0.6) is Verdict.NG
    assert verdict_for(math.nan, 0.3, 0.6) is Verdict.NG
    assert verdict_for(0.5, 0.5, 0.5) is Verdict.NG  # no REVIEW band when the limits meet
    r = Recipe("x", thresholds=Thresholds(0.3, 0.6, 0.5))
    assert r.verdict(0.45) == "REVIEW"
    with pytest.raises(RecipeError, match="no thresholds"):
        Recipe("y").verdict(0.1)


def test_apply_preprocessing_rotates_flips_then_crops():
    frame = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    out = apply_preprocessing(frame, Preprocessing(rotate=90), Roi(1, 2, 2, 3))
    rotated = np.rot90(frame, k=-1)  # clockwise: 6 x 4
    assert rotated.shape[:2] == (6, 4)
    np.testing.assert_array_equal(out, rotated[2:5, 1:3])
    gray = apply_preprocessing(frame, Preprocessing(grayscale=True, flip_horizontal=True), None)
    assert gray.shape == (4, 6) and gray.dtype == np.uint8
    with pytest.raises(ValueError, match="outside"):
        apply_preprocessing(frame, Preprocessing(), Roi(5, 0, 4, 4))
