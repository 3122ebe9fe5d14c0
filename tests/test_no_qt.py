"""core/ must import and the CLI must work with PySide6 (and pyqtgraph) absent."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BLOCKER = textwrap.dedent("""
    import sys, importlib.abc
    class Block(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split('.')[0] in ('PySide6', 'shiboken6', 'pyqtgraph', 'PyQt5', 'PyQt6'):
                raise ModuleNotFoundError(f"No module named '{name}' (blocked by test)", name=name)
            return None
    sys.meta_path.insert(0, Block())
""")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER + textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_every_core_module_imports_without_qt():
    res = _run("""
        import importlib, pkgutil, core
        names = [m.name for m in pkgutil.walk_packages(core.__path__, 'core.')]
        for n in names:
            importlib.import_module(n)
        assert not any(k.startswith(('PySide6', 'pyqtgraph')) for k in sys.modules)
        print(len(names))
    """)
    assert res.returncode == 0, res.stderr
    assert int(res.stdout.strip()) > 20


def test_cli_trains_and_predicts_without_qt(tmp_path):
    from tests._gen import make_mvtec_tree
    root = make_mvtec_tree(tmp_path / "ds", n_train=6, n_good=1, n_bad=1)
    res = _run(f"""
        from core.cli.main import main
        rc = main(['train', r'{root}', '--preset', 'tiny', '--steps', '2', '--workers', '0',
                   '--out', r'{tmp_path / "m.limodel"}'])
        assert rc == 0, rc
        rc = main(['predict', r'{tmp_path / "m.limodel"}', r'{root / "test"}', '--recursive',
                   '--out', r'{tmp_path / "pred"}'])
        assert rc == 0, rc
    """)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "pred" / "scores.csv").exists()
