"""Screenshot of the *Line I/O* page while the demo recipe inspects the simulated line.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_lineio.py \\
        --out docs/line-io-page.png

In a temporary data folder (unless --data-dir is given) the station gets two links: a
Modbus TCP server with a real pymodbus client polling it as the PLC would, when
core.lineio.modbus is there, else the tests' in-process link; and a second in-process link
left "connecting". The PLC side sends START, RECIPE 1 and a TRIGGER; an NG output is forced
and a test OK sent from the page; then the page is saved as the X server shows it.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree

LOOP = '\n[[transport]]\nkind = "loop"\nname = "{name}"\nstate = "{state}"\n'


def line_io_toml(modbus_port: int | None) -> str:
    text = '[mapping]\nreview_as = "ng"\ndeadline_ms = 500\nfail_safe = "reject"\nheartbeat_ms = 1000\n'
    if modbus_port:
        text += f'\n[[transport]]\nkind = "modbus-server"\nhost = "127.0.0.1"\nport = {modbus_port}\n'
    else:
        text += LOOP.format(name="plc (in-process)", state="connected")
    return text + LOOP.format(name="mes (in-process)", state="connecting")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="save a screenshot of the Line I/O page")
    ap.add_argument("--out", type=Path, default=Path("docs/line-io-page.png"))
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--size", default="1366x768", help="page size WxH")
    ap.add_argument("--timeout", type=float, default=180.0)
    args = ap.parse_args(argv)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.main import build_parser, create_window
    from core.lineio import registry
    from core.lineio.contract import LineInput, LineOutput
    from scripts.screenshot import run_until, save_widget
    from tests import lineio_gui_fakes as fakes

    registry.KINDS["loop"] = "tests.lineio_gui_fakes"  # the in-process link of the GUI tests
    fakes.ensure_config_module()
    modbus = importlib.util.find_spec("core.lineio.modbus") is not None
    port = free_port() if modbus else None
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-lineio-shot-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "line_io.toml").write_text(line_io_toml(port))
    try:
        from core.lineio.hub import LineInterface  # noqa: F401
    except ImportError:  # before the hub: the tests' stand-in with its names
        from app.workers import line_control
        line_control._default_hub = lambda config, context: fakes.FakeHub(config, context=context)

    app = QApplication.instance() or QApplication([])
    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), "--recipe", "demo"]))
    window.resize(1366, 768)
    window.show()
    plc = []
    outcome = {"rc": 1}

    def ready() -> bool:
        line = window.controller.line
        return line.hub is not None and window.presenter.result is not None and window.presenter.result.seq > 20

    def act() -> None:
        page = window.line_io.open_dialog()
        w, h = (int(v) for v in args.size.lower().split("x"))
        page.resize(w, h)
        page.move(0, 0)
        loops = [t for t in fakes.BUILT if t.state == "connected"]
        if port:
            plc.append(modbus_plc(port))
        elif loops:
            for kind, value in ((LineInput.START, None), (LineInput.RECIPE, 1), (LineInput.TRIGGER, None)):
                loops[0].send_from_thread(kind, value).join(5)
        page.commission.confirm = lambda: True
        page.commission.output.setCurrentText(LineOutput.NG.name)
        page.commission.value.setText("on")
        page.commission.request_force()
        page.commission.request_test("OK")
        QTimer.singleShot(2500, lambda: grab(page))

    def grab(page) -> None:
        page.refresh()
        outcome["rc"] = 0 if save_widget(page, args.out) else 1
        for client in plc:
            client.close()
        window.close()
        app.quit()

    run_until(app, window, ready, act, args.timeout, "the line interface or the first results did not come")
    return outcome["rc"]


def modbus_plc(port: int):
    """A pymodbus client connected to the station, as the PLC (it only needs to be there)."""
    from pymodbus.client import ModbusTcpClient

    client = ModbusTcpClient("127.0.0.1", port=port)
    client.connect()
    return client


if __name__ == "__main__":
    sys.exit(main())
