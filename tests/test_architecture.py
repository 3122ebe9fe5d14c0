"""The house rules a newcomer relies on, checked on the source text (docs/architecture.md):
imports run one way between layers, and no file grows past 400 lines."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_LINES = 400


def _sources(*tops: str) -> list[Path]:
    return sorted(p for top in tops for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def _imports(path: Path) -> set[str]:
    """Every module named by an import statement in ``path`` (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(p for p in [*parts, base] if p)
            names.add(base)
    return names


def _layer_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "core" and len(parts) > 1 else parts[0]


def test_the_import_helper_resolves_relative_imports(tmp_path, monkeypatch):
    pkg = tmp_path / "core" / "camera"
    pkg.mkdir(parents=True)
    f = pkg / "x.py"
    f.write_text("from . import base\nfrom ..store import recipes\nimport numpy as np\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert _imports(f) == {"core.camera", "core.store", "numpy"}


@pytest.mark.parametrize("path", _sources("core", "app", "scripts", "bench", "installer"),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_is_longer_than_400_lines(path):
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (at most {MAX_LINES}): split it by job"


def test_core_never_imports_the_gui():
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if m.split(".")[0] in
                                                   ("app", "PySide6", "shiboken6", "pyqtgraph"))
                 for p in _sources("core")}
    assert not {k: v for k, v in offenders.items() if v}


def test_store_is_persistence_only_it_never_imports_the_live_path():
    """store/ keeps recipes, versions and results; it does not reach up into inspection, the
    camera, training or the command line."""
    above = {"core.inspection", "core.camera", "core.training", "core.cli", "core.evaluation"}
    bad = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _layer_of(m) in above)
           for p in _sources("core/store")}
    assert not {k: v for k, v in bad.items() if v}


def test_the_recipe_floor_imports_nothing_above_it():
    """core/recipe/ (the recipe model, thresholds, verdict, preprocessing) sits below store,
    inspection and inference: any of them may use it, it uses none of them."""
    bad = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p)
                                             if m.startswith(("core.", "app")) and _layer_of(m) != "core.recipe")
           for p in _sources("core/recipe")}
    assert not {k: v for k, v in bad.items() if v}


def test_inference_never_imports_evaluation_store_or_inspection():
    """Calibration judges a model's scores, so it lives in core/evaluation/ above the model:
    core/inference/ runs models and reaches up into none of the layers that use it."""
    above = {"core.evaluation", "core.store", "core.inspection", "core.training", "core.cli"}
    bad = {str(p.relative_to(ROOT)): sorted(m for m in _imports(p) if _layer_of(m) in above)
           for p in _sources("core/inference")}
    assert not {k: v for k, v in bad.items() if v}


def _files_saying(words: tuple[str, ...], *tops: str) -> set[str]:
    return {str(p.relative_to(ROOT)) for p in _sources(*tops)
            if any(w in p.read_text(encoding="utf-8") for w in words)}


def test_one_worker_idiom_in_the_gui():
    """Work leaves the GUI thread one way, app/workers/background.py; no page or widget starts
    its own thread, pool or process."""
    words = ("threading.Thread", "QThread", "ThreadPoolExecutor", "QProcess", "QThreadPool",
             "QRunnable", "moveToThread")
    assert _files_saying(words, "app") <= {"app/workers/background.py"}


def test_heat_maps_and_outlines_are_drawn_in_one_place():
    """Colouring and outlining are core/display.py's; a second copy would drift from it."""
    words = ("applyColorMap", "drawContours", "COLORMAP_")
    assert _files_saying(words, "core", "app") <= {"core/display.py"}
