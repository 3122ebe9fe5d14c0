"""Screenshot of the *Line I/O* page while the demo recipe inspects the simulated line.

    xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python scripts/screenshot_lineio.py \\
        --out docs/line-io-page.png

In a temporary data folder (unless --data-dir is given) the station gets two real links on
loopback: a Modbus TCP server with a pymodbus client as the PLC (it sends START, selects
recipe 1 and raises TRIGGER through the register map), and an OPC UA server no client has
reached yet ("connecting"). An NG output is forced and a test OK sent from the page; then the
page is saved as the X server shows it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from any folder: import the app from this tree

def line_io_toml(modbus_port: int, opcua_port: int) -> str:
    return ('[mapping]\nreview_as = "ng"\ndeadline_ms = 500\nfail_safe = "reject"\nheartbeat_ms = 1000\n'
            f'\n[[transport]]\nkind = "modbus-server"\nhost = "127.0.0.1"\nport = {modbus_port}\n'
            f'\n[[transport]]\nkind = "opcua"\nhost = "127.0.0.1"\nport = {opcua_port}\n')


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
    from core.lineio.contract import LineOutput
    from scripts.screenshot import run_until, save_widget

    port = free_port()
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="lineinspector-lineio-shot-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "line_io.toml").write_text(line_io_toml(port, free_port()))

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
        plc.append(modbus_plc(port))
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
    """A pymodbus client connected to the station, as the PLC: START, recipe 1, one TRIGGER."""
    from pymodbus.client import ModbusTcpClient

    from core.lineio import modbus_map as m

    client = ModbusTcpClient("127.0.0.1", port=port)
    client.connect()
    client.write_register(m.COMMAND, m.CMD_START)
    client.write_register(m.RECIPE, 1)
    client.write_register(m.COMMAND, m.CMD_SELECT_RECIPE)
    client.write_register(m.TRIGGER, 1)
    return client


if __name__ == "__main__":
    sys.exit(main())
