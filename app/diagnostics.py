"""Diagnostics of the GUI side: the Qt check of ``--self-test`` and the ``--startup-time`` timer.

Nothing here is imported by the window itself; ``app.main`` imports it only for those options.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

_T_IMPORT = time.monotonic()


def process_age() -> float:
    """Seconds since this process started: from /proc on Linux (10 ms resolution), else since
    this module was first imported (which misses the interpreter's own start-up)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 (starttime), counted after the ")" of comm
        with open("/proc/uptime", encoding="ascii") as fh:
            uptime = float(fh.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _T_IMPORT


def qt_check() -> str:
    """Extra ``--self-test`` check: PySide6, pyqtgraph and the window's modules import, and a
    QApplication starts on the offscreen platform and renders a widget (headless)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import PySide6
    import pyqtgraph
    from PySide6.QtCore import QLibraryInfo
    from PySide6.QtWidgets import QApplication, QLabel

    import app.window  # noqa: F401  (every module the main window needs is importable)
    import app.wizard  # noqa: F401

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    label = QLabel("LineInspector self-test")
    image = label.grab().toImage()
    label.deleteLater()
    if image.isNull() or image.width() < 1:
        raise RuntimeError("Qt rendered an empty image")
    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)) / "platforms"
    names = sorted(p.name.split(".")[0].removeprefix("libq").removeprefix("q")
                   for p in plugins.glob("*") if p.is_file())
    if sys.platform.startswith("linux") and "xcb" not in names:
        raise RuntimeError(f"the xcb platform plugin (X11 desktops) is missing from {plugins} "
                           f"(found: {', '.join(names) or 'none'})")
    return (f"PySide6 {PySide6.__version__}, pyqtgraph {pyqtgraph.__version__}; a widget rendered on "
            f"'{qapp.platformName()}'; platform plugins: {', '.join(names)}")


class StartupTimer:
    """``--startup-time``: print seconds from process start to the main window's first paint and
    to the first inspection result shown, then close the window (which stops the session)."""

    def __init__(self, window, app, wait_result_s: float = 60.0) -> None:
        from PySide6.QtCore import QEvent, QObject, QTimer

        self.window, self.app = window, app
        self.shown_s: float | None = None
        self.result_s: float | None = None
        self._wait = wait_result_s
        self._deadline = time.monotonic() + wait_result_s
        timer = self

        class _PaintWatch(QObject):
            def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
                if event.type() == QEvent.Type.Paint and timer.shown_s is None:
                    timer.shown_s = process_age()
                    print(f"startup: window shown after {timer.shown_s:.2f} s "
                          f"(process start to first paint)", flush=True)
                    QTimer.singleShot(0, timer._poll)
                return False

        self._watch = _PaintWatch(window)
        window.installEventFilter(self._watch)
        self._timer = QTimer(window)
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._poll)

    def _poll(self) -> None:
        controller = getattr(self.window, "controller", None)
        latest = controller.latest() if controller is not None else None
        if latest is not None:
            self.result_s = process_age()
            print(f"startup: first inspection result after {self.result_s:.2f} s", flush=True)
        elif time.monotonic() < self._deadline:
            if not self._timer.isActive():
                self._timer.start()
            return
        elif self._wait > 0:
            print(f"startup: no inspection result within {self._wait:g} s", flush=True)
        self._timer.stop()
        self.window.close()
        self.app.quit()
