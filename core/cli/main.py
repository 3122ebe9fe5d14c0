"""`lineinspect` entry point.

Each sub-command lives in its own module under ``core.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code). Heavy imports (torch, cv2,
harvesters) happen inside the handlers so that ``lineinspect --help`` stays instant.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from core import __version__

# Order here is the order in `lineinspect --help`.
COMMAND_MODULES = (
    "core.cli.train_cmd",
    "core.cli.eval_cmd",
    "core.cli.predict_cmd",
    "core.cli.export_cmd",
    "core.cli.camera_cmd",
    "core.cli.recipe_cmd",
    "core.cli.results_cmd",
    "core.cli.selftest_cmd",
)


class CliError(Exception):
    """An error meant for the user: printed without a traceback, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lineinspect",
        description="LineInspector: DRAEM anomaly detection for industrial line inspection.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # the command is not part of this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # run as `python -m core.cli.main`: use the imported module, so that the commands' CliError
    # is the one caught above (this file as __main__ would define a second CliError class)
    from core.cli.main import main as _main

    sys.exit(_main())
