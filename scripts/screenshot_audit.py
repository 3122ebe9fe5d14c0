"""Screenshot of the "Audit trail…" dialog with some entries, the chain verified.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_audit.py \\
        --out docs/screenshot-audit.png

In a temporary data folder (unless --data-dir is given) a morning's changes are written to
the audit trail through core.audit (threshold changes with reasons, a deploy, a rollback,
recipe switches, alarm acknowledgements, user management); the dialog lists them, verifies
the chain and is saved as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree

ENTRIES = (  # (minutes ago, user, role, action, target, old, new, reason)
    (250, "admin", "administrator", "user_add", "anna", None, {"role": "engineer"}, None),
    (248, "admin", "administrator", "user_add", "ben", None, {"role": "engineer"}, None),
    (231, "anna", "engineer", "deploy", "cap", {"version": 2}, {"version": 3},
     "retrained with the new supplier's caps"),
    (229, "anna", "engineer", "thresholds", "cap", {"ok_limit": 0.25, "ng_limit": 0.26},
     {"ok_limit": 0.24, "ng_limit": 0.27}, "too many false rejects on dark caps"),
    (190, "operator", "operator", "alarm_ack", "consecutive_ng", None,
     {"text": "5 NG parts in a row (alarm at 5)", "recipe": "cap"}, None),
    (160, "ben", "engineer", "recipe_switch", "demo", "cap", "demo", None),
    (158, "ben", "engineer", "counter_reset", "demo", None, None, None),
    (121, "ben", "engineer", "forced_output", "NG", None, {"value": True, "link": "modbus-server"},
     "commissioning: reject gate test"),
    (95, "operator", "operator", "alarm_ack", "camera_fault", None,
     {"text": "camera: camera lost", "recipe": "demo"}, None),
    (64, "anna", "engineer", "rollback", "cap", {"version": 3}, {"version": 2}, None),
    (63, "anna", "engineer", "recipe_switch", "cap", "demo", "cap", None),
    (30, "admin", "administrator", "user_role", "ben", {"role": "engineer"},
     {"role": "administrator"}, None),
    (12, "line", "operator", "alarm_ack", "yield", None,
     {"text": "yield 84.0% over the last 200 parts (below 90%)", "recipe": "cap"}, None),
)


def fill(data_dir: Path) -> None:
    from core.audit import AuditTrail

    now = time.time()
    with AuditTrail.for_data_dir(data_dir) as trail:
        for ago, user, role, action, target, old, new, reason in ENTRIES:
            trail.record(user, role, action, target, old, new, reason, time=now - ago * 60)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the audit dialog")
    ap.add_argument("--out", type=Path, default=Path("docs/screenshot-audit.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.audit.dialog import AuditDialog
    from scripts.screenshot import run_until, save_widget

    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-audit-"))
    fill(data_dir)
    app = QApplication.instance() or QApplication([])
    dialog = AuditDialog(data_dir)
    dialog.setGeometry(0, 0, 1366, 768)  # bare Xvfb has no window manager to place it
    dialog.show()
    dialog.verify_chain()
    saved: list[bool] = []

    def grab() -> None:
        saved.append(save_widget(dialog, args.out))
        dialog.shutdown()
        app.quit()

    run_until(app, dialog, lambda: dialog.table.rowCount() == len(ENTRIES) and dialog.report is not None,
              lambda: QTimer.singleShot(500, grab), args.timeout, "the dialog did not fill in time")
    return 0 if saved and saved[0] else 1


if __name__ == "__main__":
    sys.exit(main())
