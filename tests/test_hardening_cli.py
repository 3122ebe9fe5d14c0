"""Issue 13: the command line reached as `python -m core.cli.main` reports errors in one line."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_module_entry_point_turns_cli_errors_into_one_line(tmp_path):
    (tmp_path / "a.png").write_bytes(b"not an image")
    p = subprocess.run([sys.executable, "-m", "core.cli.main", "predict", str(tmp_path / "none.limodel"),
                        str(tmp_path / "a.png"), "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == 2, p.stderr
    assert "Traceback" not in p.stderr
    assert p.stderr.strip().splitlines()[-1].startswith("error: ") and "none.limodel" in p.stderr
