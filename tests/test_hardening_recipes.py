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
from core.recipe import Recipe, RecipeError, Thresholds
from core.store import RecipeStore, VersionError
from core.recipe import check_name
from core.store.recipe_file import RECIPE_FILE
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


# --- item 18: one lock per recipe; activation state written once; stale staging removed ---

_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="concurrency checks fork workers")


def _ctx():
    return multiprocessing.get_context("fork")


def _worker_update(data: str, who: int, count: int, barrier) -> None:
    store = RecipeStore(data)
    barrier.wait()
    for k in range(count):
        store.update("bottle", lambda r: r.camera.settings.__setitem__(f"p{who}_{k}", k))


def _worker_activate(data: str, who: int, count: int, barrier) -> None:
    store = RecipeStore(data)  # forked: the bundles ran once in the parent already
    barrier.wait()
    for k in range(count):
        store.activate("bottle", 1 + (who + k) % 2, by=f"worker{who}")


def _run_workers(target, data: Path, n: int, count: int) -> None:
    ctx = _ctx()
    barrier = ctx.Barrier(n)
    procs = [ctx.Process(target=target, args=(str(data), i, count, barrier)) for i in range(n)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * n


@_fork
@pytest.mark.timeout(300)
def test_concurrent_updates_of_one_recipe_lose_nothing(tmp_path):
    store = RecipeStore(tmp_path)
    store.create("bottle")
    _run_workers(_worker_update, tmp_path, n=3, count=15)
    settings = store.get("bottle").camera.settings
    assert settings == {f"p{i}_{k}": k for i in range(3) for k in range(15)}


@_fork
@pytest.mark.timeout(300)
def test_concurrent_activations_keep_every_log_entry(tmp_path, bundles):
    store = _two_versions(tmp_path, bundles)
    _run_workers(_worker_activate, tmp_path / "data", n=3, count=10)
    log = store.registry("bottle").activation_log()
    assert len(log) == 2 + 3 * 10
    assert sorted(e["by"] for e in log[2:]) == sorted(f"worker{i}" for i in range(3)
                                                     for _ in range(10))
    assert all(e["action"] == "activate" for e in log)
    recipe = store.get("bottle")
    assert store.activation_stack("bottle")[-1] == recipe.active_version == log[-1]["version"]


def test_saving_a_recipe_read_earlier_does_not_undo_an_activation(tmp_path, bundles):
    store = _two_versions(tmp_path, bundles)
    store.activate("bottle", 1)
    stale = store.get("bottle")  # e.g. the window read it a while ago
    store.activate("bottle", 2)  # meanwhile another program activates v2
    stale.camera.source = "genicam:42"
    saved = store.save(stale)
    again = store.get("bottle")
    assert saved.active_version == again.active_version == 2
    assert again.camera.source == "genicam:42"
    assert store.activation_stack("bottle") == [1, 2]


def _crash_run(data: Path, crash_at: str, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` (with ``store``) in a fresh interpreter that dies at ``crash_at``."""
    prelude = ("import json, sys\n"
               "from core.store import RecipeStore, versions\n"
               f"store = RecipeStore({str(data)!r})\n"
               "for mv in store.versions('bottle'):\n"
               "    versions._RAN_OK.add(mv.sha256)  # ran in the parent: no torch needed\n")
    env = {**os.environ, "LINEINSPECTOR_CRASH_AT": crash_at, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-c", prelude + code], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


def _three_activated(tmp_path, bundles) -> RecipeStore:
    store = _two_versions(tmp_path, bundles)
    store.activate("bottle", store.add_version("bottle", bundles[0]))  # v3
    assert store.activation_stack("bottle") == [1, 2, 3]
    return store


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
@pytest.mark.parametrize("action, active, stack, next_rollback", [
    ("store.activate('bottle', 1)", 1, [2, 3, 1], 3),
    ("store.rollback('bottle')", 2, [1, 2], 1),
])
def test_kill_between_recipe_and_log_keeps_them_in_agreement(tmp_path, bundles, action,
                                                              active, stack, next_rollback):
    store = _three_activated(tmp_path, bundles)
    log_before = store.registry("bottle").activation_log()
    run = _crash_run(tmp_path / "data", "switch:after-recipe", action)
    assert run.returncode == -signal.SIGKILL, run.stderr
    recipe = store.get("bottle")
    assert recipe.active_version == active and store.activation_stack("bottle") == stack
    assert store.registry("bottle").activation_log() == log_before  # killed before the log
    assert store.rollback("bottle").active_version == next_rollback
    log = store.registry("bottle").activation_log()
    assert [e["action"] for e in log[len(log_before):]] == ["unlogged", "rollback"]
    assert log[len(log_before)]["active"] == active


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_kill_during_add_version_leaves_no_staging_after_reopening(tmp_path, bundles):
    store = _two_versions(tmp_path, bundles)
    models = store.registry("bottle").dir
    run = _crash_run(tmp_path / "data", "add:staged",
                     f"store.add_version('bottle', {str(bundles[1])!r})")
    assert run.returncode == -signal.SIGKILL, run.stderr
    left = [p for p in models.iterdir() if p.name.startswith(".incoming-")]
    assert any(p.is_dir() for p in left)  # the killed writer's folder, with the bundle copy
    RecipeStore(tmp_path / "data")  # opening the store clears it
    assert [p.name for p in models.iterdir() if p.name.startswith(".")] == []
    assert [mv.version for mv in store.versions("bottle")] == [1, 2]
    assert store.add_version("bottle", bundles[1]) == 3


def _hold_staging(models: str, conn) -> None:
    from core.store.staging import staging_dir

    with staging_dir(Path(models)) as folder:
        (folder / "model.limodel").write_bytes(b"partial")
        conn.send(str(folder))
        conn.recv()  # until the parent says so (or kills this process)


@_fork
@pytest.mark.timeout(120)
def test_opening_the_store_keeps_live_staging_and_removes_dead_ones(tmp_path):
    store = RecipeStore(tmp_path)
    store.create("bottle")
    models = store.registry("bottle").dir
    legacy = models / ".incoming-old1234"  # left by a release without owner locks
    legacy.mkdir(parents=True)
    (legacy / "model.limodel").write_bytes(b"x" * 1000)
    old_tmp = store.recipe_dir("bottle") / ".recipe.toml.abc.tmp"
    fresh_tmp = store.recipe_dir("bottle") / ".recipe.toml.def.tmp"
    old_tmp.write_text("half")
    fresh_tmp.write_text("half")
    os.utime(old_tmp, (0, 0))
    ctx = _ctx()
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_hold_staging, args=(str(models), child))
    proc.start()
    live = Path(parent.recv())
    RecipeStore(tmp_path)
    assert live.is_dir() and not legacy.exists()  # the owner is alive: kept
    assert not old_tmp.exists() and fresh_tmp.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.join(60)
    assert live.is_dir()  # killed: nothing cleaned up after itself
    removed = RecipeStore(tmp_path).clean_staging()
    assert removed == [] and not live.exists()  # (removed when the store was opened)
    assert [p.name for p in models.iterdir()] == []


def test_list_names_a_folder_with_control_chars_on_one_line(tmp_path, capsys):
    store = RecipeStore(tmp_path)
    _write(store, "good", GOOD.format(name="good"))
    (store.root / "bad\nname").mkdir()
    rc, out, err = _cli(capsys, "recipe", "list", "--data-dir", str(tmp_path))
    lines = out.splitlines()
    assert rc == 1 and len(lines) == 2 and lines[0].startswith("good")
    assert lines[1].startswith("'bad\\nname'") and "BROKEN" in lines[1]


@pytest.mark.parametrize("setting", ["ExposureTime=nan", "Gain=inf", "Gain=-inf"])
def test_camera_setting_that_is_not_a_finite_number_is_refused(tmp_path, capsys, setting):
    rc, out, err = _cli(capsys, "recipe", "create", "bottle", "--data-dir", str(tmp_path),
                        "--setting", setting)
    assert rc == 2 and "must be a finite number" in err and err.count("\n") == 1
    assert not (tmp_path / "recipes" / "bottle").exists()


@pytest.mark.parametrize("body", ['"evil\\nkey" = 1\n', '[camera.settings]\n"x\\ny" = [1]\n',
                                  '[roi]\n"x\\u0085" = 1\n'])
def test_a_key_with_control_chars_is_named_on_one_line(tmp_path, capsys, body):
    store = RecipeStore(tmp_path)
    _write(store, "good", GOOD.format(name="good"))
    _write(store, "odd", 'name = "odd"\n' + body)
    rc, out, err = _cli(capsys, "recipe", "list", "--data-dir", str(tmp_path))
    lines = out.splitlines()
    assert rc == 1 and len(lines) == 2 and lines[0].startswith("good"), out
    assert lines[1].startswith("odd") and "BROKEN" in lines[1] and "\\" in lines[1]


def test_an_empty_recipe_file_is_refused_not_read_as_defaults(tmp_path):
    from core.recipe import RecipeError
    from core.store.recipe_store import RecipeStore

    store = RecipeStore(tmp_path / "data")
    store.create("part", source="sim")
    store.recipe_file("part").write_text("  \n# nothing\n")
    with pytest.raises(RecipeError, match="empty"):
        store.get("part")
