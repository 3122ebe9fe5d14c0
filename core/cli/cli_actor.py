"""Who the command line acts as, for the audit trail, and recording an entry from a command.

A command run on the station's machine is run by someone with access to it: they are
recorded as their operating-system user with the role "administrator (CLI)" (it is not a
signed-in station user, and the audit trail says so).
"""

from __future__ import annotations

import argparse
import getpass
import os
from typing import Any

from core.cli.main import CliError

CLI_ROLE = "administrator (CLI)"


def os_user() -> str:
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):  # no passwd entry (containers) nor $USER
        name = ""
    if not name.strip():
        name = f"uid-{os.getuid()}" if hasattr(os, "getuid") else "unknown"
    return name[:64]


def cli_actor():
    from core.auth import Actor

    return Actor(os_user(), CLI_ROLE)


def trail(args: argparse.Namespace):
    from core.audit import AuditTrail

    return AuditTrail.for_data_dir(getattr(args, "data_dir", None))


def record(args: argparse.Namespace, action: str, target: str | None, old: Any = None,
           new: Any = None, reason: str | None = None) -> None:
    """Audit what a command just did; CliError (exit 2) naming it if that cannot be written."""
    from core.audit import AuditError

    try:
        with trail(args) as t:
            t.record(os_user(), CLI_ROLE, action, target, old, new, reason)
    except AuditError as exc:
        raise CliError(f"{action} {target or ''} done, but its audit entry was not written: "
                       f"{exc}") from None
