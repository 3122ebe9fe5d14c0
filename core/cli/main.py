"""`lineinspect` entry point.

Each sub-command lives in its own module under ``core.cli`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning an exit code). Heavy imports (torch, cv2,
harvesters) happen inside the handlers so that ``lineinspect --help`` stays instant.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import os
import sys

from core import __version__

# Order here is the order in `lineinspect --help`.
COMMAND_MODULES = (
    "core.cli.train_cmd",
    "core.cli.base_cmd",
    "core.cli.eval_cmd",
    "core.cli.predict_cmd",
    "core.cli.export_cmd",
    "core.cli.camera_cmd",
    "core.cli.recipe_cmd",
    "core.cli.results_cmd",
    "core.cli.station_cmd",
    "core.cli.users_cmd",
    "core.cli.audit_cmd",
    "core.cli.selftest_cmd",
)


class CliError(Exception):
    """An error meant for the user: printed without a traceback, exit code 2."""


_PLAIN = {  # what a user can act on, in words (the rest: the system's own text)
    errno.ENOSPC: "no space left on device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EIO: "input/output error (failing disk?)",
}


def _written_place(args: argparse.Namespace) -> str | None:
    """Where a command writes (its output, else the data folder): for an error naming no file."""
    for key in ("out", "json"):
        if getattr(args, key, None):
            return f"writing {os.fspath(getattr(args, key))}"
    if hasattr(args, "data_dir"):
        try:
            from core.store import paths

            return f"data folder {paths.data_dir(args.data_dir)}"
        except Exception:  # no platform data folder here: say nothing rather than fail
            return None
    return None


def os_error_line(exc: OSError, command: str | None = None,
                  args: argparse.Namespace | None = None) -> str:
    """One line for an OSError no command handled, e.g. ``recipe create: no space left on
    device (/data/recipes/cap/recipe.toml)``."""
    reason = _PLAIN.get(exc.errno or -1) or (exc.strerror or str(exc) or type(exc).__name__)
    where = None if exc.filename is None else os.fsdecode(exc.filename)
    if where is not None and exc.filename2 is not None:
        where = f"{where} -> {os.fsdecode(exc.filename2)}"
    if where is None and args is not None:
        where = _written_place(args)
    text = f"{command}: {reason}" if command else reason
    return f"{text} ({where})" if where is not None else text


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
        from core.settings_env import check_environment

        check_environment()  # a bad LINEINSPECTOR_* number: one line now, not a crash later
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # full disk, read-only or unwritable folder: one line, no traceback
        logging.getLogger(__name__).debug("unhandled OSError", exc_info=True)
        command = " ".join(str(getattr(args, k)) for k in ("command", f"{args.command}_command")
                           if getattr(args, k, None))
        print(f"error: {os_error_line(exc, command or None, args)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    # run as `python -m core.cli.main`: use the imported module, so that the commands' CliError
    # is the one caught above (this file as __main__ would define a second CliError class)
    from core.cli.main import main as _main

    sys.exit(_main())
