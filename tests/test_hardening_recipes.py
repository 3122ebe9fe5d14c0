"""Issue 13 items 17 and 18: damaged recipes and sidecars, names and limits, concurrent
writers, kill -9 in the middle of an activation and staging folders left behind."""

import json
import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.cli.main import main as cli_main
from core.store import Recipe, RecipeError, RecipeStore, Thresholds, VersionError
from core.store.recipe import check_name
from core.store.recipes import RECIPE_FILE
from tests.test_store_versions import make_bundle

GOOD = """\
format_version = 1
name = "{name}"

[thresholds]
ok_limit = 0.3
ng_limit = 0.6
pixel = 0.5
"""

ROOT = Path(__file__).resolve().parents[1]


def _write(store: RecipeStore, name: str, text: str) -> Path:
    d = store.root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / RECIPE_FILE).write_text(text)
    return d / RECIPE_FILE


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    rc = cli_main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


# --- item 17: a broken recipe is named in one line, the others still list ----------------

def test_deeply_nested_array_breaks_only_that_recipe(tmp_path, capsys):
    store = RecipeStore(tmp_path)
    _write(store, "good", GOOD.format(name="good"))
    _write(store, "deep", GOOD.format(name="deep") + "\n[camera.settings]\nx = "
           + "[" * 5000 + "]" * 5000 + "\n")
    listing = store.list()
    assert [r.name for r in listing.recipes] == ["good"]
    (name, msg), = listing.errors
    assert name == "deep" and "nested" in msg and "\n" not in msg
    rc, out, err = _cli(capsys, "recipe", "list", "--data-dir", str(tmp_path))
    assert rc == 1 and "good" in out and "deep" in out and "BROKEN" in out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes (POSIX)")
@pytest.mark.timeout(60)  # a safety net only: before the fix this hung for ever
def test_fifo_named_recipe_toml_is_refused_without_reading(tmp_path, capsys):
    store = RecipeStore(tmp_path)
    _write(store, "good", GOOD.format(name="good"))
    (store.root / "pipe").mkdir(parents=True)
    os.mkfifo(store.root / "pipe" / RECIPE_FILE)
    listing = store.list()
    assert [r.name for r in listing.recipes] == ["good"]
    assert "not a regular file" in dict(listing.errors)["pipe"]
    rc, out, err = _cli(capsys, "recipe", "show", "pipe", "--data-dir", str(tmp_path))
    assert rc == 2 and err.startswith("error: ") and "not a regular file" in err
    assert err.count("\n") == 1


def test_oversized_recipe_file_is_refused(tmp_path):
    store = RecipeStore(tmp_path)
    _write(store, "big", GOOD.format(name="big") + "# " + "x" * (2 << 20) + "\n")
    with pytest.raises(RecipeError, match="too large"):
        store.get("big")


@pytest.mark.parametrize("bad", ["bottle\n", "bottle ", " bottle", "bot\ttle", "bot\x00tle",
                                 "bottle\r", "bottle\u2028"])
def test_recipe_names_with_control_chars_or_edge_whitespace_are_refused(tmp_path, bad):
    with pytest.raises(RecipeError, match="invalid recipe name"):
        check_name(bad)
    store = RecipeStore(tmp_path)
    with pytest.raises(RecipeError, match="invalid recipe name"):
        store.create(bad)
    assert not store.root.exists() or list(store.root.iterdir()) == []


@pytest.mark.parametrize("ok, ng, px, message", [
    (-10.0, 99.0, 0.5, "thresholds.ok_limit must be in \\[0, 1\\]"),
    (0.2, 99.0, 0.5, "thresholds.ng_limit must be in \\[0, 1\\]"),
    (0.2, 0.4, -5.0, "thresholds.pixel must be in \\[0, 1\\]"),
    (0.2, 0.4, 1.5, "thresholds.pixel must be in \\[0, 1\\]"),
    (0.2, 0.4, float("nan"), "thresholds.pixel must be a finite number"),
    (0.6, 0.4, 0.5, "must not exceed ng_limit"),
])
def test_limits_outside_the_score_range_are_refused(tmp_path, capsys, ok, ng, px, message):
    with pytest.raises(RecipeError, match=message):
        Recipe("bottle", thresholds=Thresholds(ok, ng, px)).validated()
    rc, out, err = _cli(capsys, "recipe", "create", "bottle", "--data-dir", str(tmp_path),
                        f"--ok-limit={ok}", f"--ng-limit={ng}", f"--pixel-threshold={px}")
    assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1
    assert not (tmp_path / "recipes" / "bottle").exists()  # nothing half-created


def test_limits_at_the_ends_of_the_score_range_are_fine():
    Recipe("bottle", thresholds=Thresholds(0.0, 1.0, 0.0)).validated()
    Recipe("bottle", thresholds=Thresholds(1.0, 1.0, 1.0)).validated()


# --- item 17: corrupt sidecars give a clear VersionError in activate and rollback ---------

@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    d = tmp_path_factory.mktemp("bundles")
    return [make_bundle(d / "1.limodel", ok=0.2, ng=0.4), make_bundle(d / "2.limodel")]


def _two_versions(tmp_path, bundles) -> RecipeStore:
    store = RecipeStore(tmp_path / "data")
    store.create("bottle")
    for b in bundles:
        store.activate("bottle", store.add_version("bottle", b))
    return store


@pytest.mark.parametrize("text", [
    '{"stack": ["x"], "log": []}', '{"stack": 5, "log": []}', '{"stack": [1], "log": 5}',
    '{"stack": [1], "log": ["x"]}', "[1, 2]", "{not json", "\udcff",
    '{"stack": [' + "[" * 3000 + "]" * 3000 + '], "log": []}',
])
def test_corrupt_activations_json_is_a_version_error(tmp_path, capsys, bundles, text):
    store = _two_versions(tmp_path, bundles)
    path = store.registry("bottle").dir / "activations.json"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    before = store.recipe_file("bottle").read_bytes()
    for action in (lambda: store.activate("bottle", 1), lambda: store.rollback("bottle")):
        with pytest.raises(VersionError, match="activations.json is corrupt"):
            action()
    assert store.recipe_file("bottle").read_bytes() == before  # nothing changed
    for argv in (("activate", "bottle", "1"), ("rollback", "bottle")):
        rc, out, err = _cli(capsys, "recipe", *argv, "--data-dir", str(tmp_path / "data"))
        assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1
        assert "activations.json is corrupt" in err


@pytest.mark.parametrize("edit", [
    lambda d: [],
    lambda d: None,
    lambda d: {k: v for k, v in d.items() if k != "deployed_at"},
    lambda d: {**d, "bundle_thresholds": "abc"},
    lambda d: {**d, "bundle_thresholds": {"ok_limit": 0.9, "ng_limit": 0.1, "pixel": 0.5}},
    lambda d: {**d, "bundle_thresholds": {"ok_limit": "a", "ng_limit": 0.1, "pixel": 0.5}},
    lambda d: {**d, "validation": 5},
    lambda d: {**d, "deleted": "no"},
    lambda d: {**d, "version": "abc"},
    lambda d: {**d, "version": 7},
    lambda d: {**d, "sha256": 5},
    lambda d: {**d, "deployed_by": ["x"]},
])
def test_corrupt_version_json_is_a_version_error(tmp_path, capsys, bundles, edit):
    store = _two_versions(tmp_path, bundles)
    info = store.registry("bottle").version_dir(1) / "version.json"
    info.write_text(json.dumps(edit(json.loads(info.read_text()))))
    before = store.recipe_file("bottle").read_bytes()
    for action in (lambda: store.activate("bottle", 1), lambda: store.rollback("bottle")):
        with pytest.raises(VersionError, match="version.json is corrupt"):
            action()
    assert store.recipe_file("bottle").read_bytes() == before
    for argv in (("activate", "bottle", "1"), ("rollback", "bottle"), ("versions", "bottle")):
        rc, out, err = _cli(capsys, "recipe", *argv, "--data-dir", str(tmp_path / "data"))
        assert rc == 2 and err.startswith("error: ") and err.count("\n") == 1
        assert "version.json is corrupt" in err
