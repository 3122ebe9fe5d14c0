"""Entry point of the frozen LineInspector bundle (PyInstaller script; unused from the source tree).

One executable does everything the installed console scripts do in a virtual environment:

    LineInspector [ARGS]                  the operator's window (app.main), incl. --self-test
    LineInspector --cli ARGS              the command-line tool (``lineinspect``); on Windows
                                          also ``lineinspect.exe ARGS`` (a console build)
    LineInspector --cli self-test [ARGS]  the headless self-test without the Qt check
    LineInspector -m MODULE ARGS          run a module of the bundle, as ``python -m``: the app
                                          starts its training job and its time probe this way
                                          with ``sys.executable``, which is this program here
"""

from __future__ import annotations

import multiprocessing
import runpy
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "-m":
        module = argv[1]
        sys.argv = [module, *argv[2:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    cli = Path(sys.executable).stem.lower() == "lineinspect"
    if argv[:1] == ["--cli"]:
        cli, argv = True, argv[1:]
    if cli:
        if argv[:1] == ["self-test"]:
            from core.selftest import run_self_test

            return run_self_test(argv[1:], prog="lineinspect self-test")
        from core.cli.main import main as cli_main

        return cli_main(argv)
    from app.main import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    multiprocessing.freeze_support()  # spawned workers of the training data pipeline
    sys.exit(main(sys.argv[1:]))
