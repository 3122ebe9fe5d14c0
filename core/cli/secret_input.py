"""Reading a new password or PIN for `lineinspect users`: a terminal prompt (asked twice),
or one line from standard input with ``--password-stdin`` (scripts). Never hangs: without
a terminal (or under CI) and without ``--password-stdin`` it stops with a clear message."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from core.cli.main import CliError


def add_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--password-stdin", action="store_true",
                        help="read the password or PIN from the first line of standard input "
                             "(for scripts) instead of asking at the terminal")


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _interactive() -> bool:
    stdin = sys.stdin
    if _ci():
        return False
    try:
        return stdin is not None and stdin.isatty()
    except (ValueError, OSError):  # closed or replaced stdin
        return False


def read_secret(args: argparse.Namespace, who: str) -> str:
    """The new secret for ``who``, checked against the rules (CliError otherwise)."""
    from core.auth import AuthError, check_secret

    if args.password_stdin:
        secret = _from_stdin()
    elif not _interactive():
        raise CliError("no terminal to ask for the password: give it on standard input with "
                       "--password-stdin")
    else:
        try:
            secret = getpass.getpass(f"new password or PIN for {who}: ")
            again = getpass.getpass("again: ")
        except EOFError:
            raise CliError("no password given (end of input)") from None
        if secret != again:
            raise CliError("the two entries differ; nothing changed")
    try:
        return check_secret(secret)
    except AuthError as exc:
        raise CliError(str(exc)) from None


def _from_stdin() -> str:
    stdin = sys.stdin
    if stdin is None:
        raise CliError("--password-stdin: there is no standard input")
    try:
        if stdin.isatty() and _ci():
            raise CliError("--password-stdin: standard input is a terminal under CI; pipe "
                           "the password in")
        line = stdin.readline()
    except (OSError, ValueError) as exc:
        raise CliError(f"--password-stdin: cannot read standard input ({exc})") from None
    secret = line.rstrip("\r\n")
    if not secret:
        raise CliError("--password-stdin: no password on standard input (empty)")
    return secret
