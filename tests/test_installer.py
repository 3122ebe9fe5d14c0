"""The installer (issue 8) without building it: the PyInstaller spec, build.sh and the launcher
files are consistent, and the self-test entry point works in-process against the source tree
(demo model, simulated line, viky.cti, temporary results store) and fails clearly when it
should. The real build (installer/build.sh, 10+ minutes) is not part of CI."""

from __future__ import annotations

import ast
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from core import selftest
from core.camera.genicam.producers import bundled_viky_cti
from core.demo import DEMO_MODEL

ROOT = Path(__file__).resolve().parents[1]
INSTALLER = ROOT / "installer"
SPEC = INSTALLER / "lineinspector.spec"
VIKY = bundled_viky_cti()
needs_viky = pytest.mark.skipif(VIKY is None, reason="viky.cti not found in the installed genicam package")


def _spec_constant(name: str):
    tree = ast.parse(SPEC.read_text(encoding="utf-8"), str(SPEC))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not assigned in {SPEC.name}")


def test_spec_parses_and_names_entry_resources_and_producer() -> None:
    text = SPEC.read_text(encoding="utf-8")
    ast.parse(text, str(SPEC))
    assert 'ROOT / "installer" / "entry.py"' in text and (INSTALLER / "entry.py").is_file()
    assert '(str(RESOURCES), "resources")' in text
    assert 'GENICAM.glob("*.cti")' in text and '(str(p), "genicam") for p in PRODUCERS' in text
    assert 'name=NAME' in text and _spec_constant("NAME") == "LineInspector"
    assert "COLLECT(" in text and "exclude_binaries=True" in text  # onedir
    for excluded in ('"tests"', '"pytest"', '"openvino"', '"PyInstaller"', "QT_EXCLUDES"):
        assert excluded in text
    assert DEMO_MODEL.is_file() and DEMO_MODEL.is_relative_to(ROOT / "resources")
    assert (ROOT / "resources" / "icons" / "lineinspector.png").is_file()
    assert (ROOT / "resources" / "icons" / "lineinspector.ico").is_file()


def test_spec_keeps_every_qt_module_the_app_imports() -> None:
    used = set()
    for path in (ROOT / "app").rglob("*.py"):
        used |= set(re.findall(r"PySide6\.(Qt\w+)", path.read_text(encoding="utf-8")))
        used |= {m for line in re.findall(r"from PySide6 import ([\w, ]+)", path.read_text(encoding="utf-8"))
                 for m in (s.strip() for s in line.split(",")) if m.startswith("Qt")}
    kept = set(_spec_constant("QT_MODULES"))
    assert used and used <= kept, f"app/ imports {sorted(used - kept)}, which the spec excludes"


QT_BLOCKER = """
import ast, importlib.abc, os, sys
from pathlib import Path
tree = ast.parse(Path("installer/lineinspector.spec").read_text(encoding="utf-8"))
keep = next(ast.literal_eval(n.value) for n in tree.body
            if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "QT_MODULES")
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.startswith("PySide6.Qt") and name.split(".")[1] not in keep:
            raise ModuleNotFoundError(f"No module named {name!r} (left out of the bundle)", name=name)
sys.meta_path.insert(0, Block())
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from app.diagnostics import qt_check
print(qt_check())
"""


def test_window_modules_import_with_only_the_bundled_qt_modules() -> None:
    """What the frozen bundle's Qt check does, with every Qt module the spec leaves out blocked
    (pyqtgraph imports some of them through importlib, which PyInstaller cannot see)."""
    res = subprocess.run([sys.executable, "-c", QT_BLOCKER], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "a widget rendered" in res.stdout


def test_build_script_and_launchers() -> None:
    build = INSTALLER / "build.sh"
    assert os.access(build, os.X_OK)
    text = build.read_text(encoding="utf-8")
    assert "--self-test" in text and "lineinspector.spec" in text and '".[installer]"' in text
    assert "--cuda" in text and ".tar.gz" in text
    subprocess.run(["bash", "-n", str(build)], check=True)
    for name in ("lineinspector", "lineinspect", "install-desktop-entry.sh"):
        script = INSTALLER / "linux" / name
        assert os.access(script, os.X_OK), name
        subprocess.run(["sh", "-n", str(script)], check=True)
    assert "--cli" in (INSTALLER / "linux" / "lineinspect").read_text(encoding="utf-8")
    desktop = (INSTALLER / "linux" / "lineinspector.desktop").read_text(encoding="utf-8")
    for key in ("[Desktop Entry]", "Type=Application", "Name=LineInspector", "Exec=", "Icon="):
        assert key in desktop
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^installer = \["pyinstaller>=6', pyproject, re.M)
    iss = INSTALLER / "windows" / "lineinspector.iss"
    assert iss.is_file() and "LineInspector.exe" in iss.read_text(encoding="utf-8")


@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")  # runpy, module imported
def test_frozen_entry_runs_modules_like_python_m(capsys) -> None:
    sys.path.insert(0, str(INSTALLER))
    try:
        import entry
    finally:
        sys.path.remove(str(INSTALLER))
    with pytest.raises(SystemExit) as exc:  # `LineInspector -m MODULE ARGS` as `python -m`
        entry.main(["-m", "core.selftest", "--help"])
    assert exc.value.code == 0 and "Headless self-test" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:  # `LineInspector --cli ARGS` is lineinspect
        entry.main(["--cli", "--version"])
    assert exc.value.code == 0 and "0." in capsys.readouterr().out


@needs_viky
def test_self_test_passes_in_process_against_the_source_tree() -> None:
    out = io.StringIO()
    rc = selftest.run_self_test(["--frames", "2"], out=out)
    text = out.getvalue()
    assert rc == 0, text
    lines = [line for line in text.splitlines() if line.startswith(("PASS", "FAIL"))]
    assert [line.split()[1] for line in lines] == list(selftest.CHECKS), text
    assert all(line.startswith("PASS") for line in lines), text
    assert "viky.cti" in text and "results written and read back" in text
    assert "self-test OK" in text


def test_gui_entry_self_test_fails_clearly_on_a_missing_model(tmp_path, capsys) -> None:
    from app.main import main

    missing = tmp_path / "nope.limodel"
    rc = main(["--self-test", "--model", str(missing), "--frames", "1"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert f"FAIL  model    model file {missing} not found" in out
    assert "FAIL  inspect  not run (model failed)" in out
    assert re.search(r"^PASS  qt ", out, re.M), out  # the GUI entry adds the Qt check
    assert "self-test FAILED" in out and "model" in out.splitlines()[-1]


def test_startup_time_option_reports_the_window_shown(tmp_path) -> None:
    code = ("import sys; from app.main import main; "
            f"sys.exit(main(['--startup-time', '--no-start', '--data-dir', {str(tmp_path / 'data')!r}]))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "LINEINSPECTOR_CACHE": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    assert re.search(r"^startup: window shown after \d+\.\d\d s", res.stdout, re.M), res.stdout


def test_frozen_self_test_refuses_a_producer_outside_the_bundle(tmp_path, monkeypatch) -> None:
    if VIKY is None:
        pytest.skip("viky.cti not installed")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    args = selftest.build_parser().parse_args([])
    with pytest.raises(selftest.CheckFailed, match="outside the bundle"):
        selftest._viky_path(args)
    args = selftest.build_parser().parse_args(["--cti", str(tmp_path / "missing.cti")])
    with pytest.raises(selftest.CheckFailed, match="does not exist"):
        selftest._viky_path(args)


def test_cli_self_test_command_reports_a_missing_model(tmp_path, capsys) -> None:
    from core.cli.main import main

    missing = tmp_path / "nope.limodel"
    rc = main(["self-test", "--model", str(missing), "--frames", "1"])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert f"FAIL  model    model file {missing} not found" in out
    assert not re.search(r"^\w+  qt ", out, re.M)  # the CLI has no Qt check
