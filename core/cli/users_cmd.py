"""`lineinspect users ...`: the station's engineer and administrator accounts.

Run by someone with access to the machine (the first administrator, a forgotten password);
every change is audited as the OS user with the role "administrator (CLI)".
"""

from __future__ import annotations

import argparse
import datetime as _dt

from core.cli.main import CliError
from core.cli.recipe_cmd import _common
from core.cli.secret_input import add_option, read_secret


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="station users: engineers, administrators",
                                   description="Manage who may sign in at the station "
                                               "(operators need no account).")
    sub = parser.add_subparsers(dest="users_command", metavar="ACTION", required=True)

    p = sub.add_parser("add-admin", parents=[_common()],
                       help="create an administrator (first start)")
    p.add_argument("name", nargs="?", default="admin", help="user name (default: admin)")
    add_option(p)
    p.set_defaults(func=cmd_add_admin)

    p = sub.add_parser("add", parents=[_common()], help="create a user")
    p.add_argument("name")
    p.add_argument("--role", required=True, help="engineer or administrator")
    add_option(p)
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("list", parents=[_common()], help="list the users")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("remove", parents=[_common()], help="delete a user")
    p.add_argument("name")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("reset-password", parents=[_common()],
                       help="set a new password or PIN (also lifts a lock-out)")
    p.add_argument("name")
    add_option(p)
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("set-role", parents=[_common()], help="change a user's role")
    p.add_argument("name")
    p.add_argument("role", help="engineer or administrator")
    p.set_defaults(func=cmd_set_role)


def _store(args: argparse.Namespace):
    from core.auth import AuthError, UserStore, load_settings
    from core.cli.cli_actor import trail
    from core.store import paths

    root = paths.data_dir(args.data_dir)
    try:
        return UserStore(root, settings=load_settings(root), audit=trail(args))
    except AuthError as exc:
        raise CliError(str(exc)) from None


def _guard(fn):
    """AuthError (a bad name, role or password, a damaged users file) -> CliError."""
    def wrapped(args: argparse.Namespace) -> int:
        from core.auth import AuthError

        try:
            return fn(args)
        except AuthError as exc:
            raise CliError(str(exc)) from None
    wrapped.__name__ = fn.__name__
    return wrapped


def _add(args: argparse.Namespace, role: str) -> int:
    from core.auth import Role, check_name
    from core.cli.cli_actor import cli_actor

    name, role = check_name(args.name), Role.parse(role, "--role")
    store = _store(args)
    if store.get(name) is not None:  # before asking for a password that would be refused
        raise CliError(f"user {name!r} exists already (reset its password with "
                       f"`lineinspect users reset-password {name}`)")
    secret = read_secret(args, name)
    user = store.add(name, role, secret, by=cli_actor())
    print(f"added {user.role.label} {user.name!r} ({user.kind}) in {store.path}")
    return 0


@_guard
def cmd_add_admin(args: argparse.Namespace) -> int:
    return _add(args, "administrator")


@_guard
def cmd_add(args: argparse.Namespace) -> int:
    return _add(args, args.role)


def _local(t: float) -> str:
    return _dt.datetime.fromtimestamp(t).strftime("%Y-%m-%d %H:%M")


@_guard
def cmd_list(args: argparse.Namespace) -> int:
    store = _store(args)
    users = store.list()
    if not users:
        print("no users yet: create the administrator with `lineinspect users add-admin`")
        return 0
    print(f"{'name':<20} {'role':<14} {'secret':<9} {'created':<17} {'changed':<17} state")
    for u in users:
        wait = store.wait_s(u.name)
        state = f"locked out ({wait:.0f} s left)" if wait else "ok"
        print(f"{u.name:<20} {u.role.label:<14} {u.kind:<9} {_local(u.created):<17} "
              f"{_local(u.changed):<17} {state}")
    if store.needs_admin():
        print("no administrator: create one with `lineinspect users add-admin`")
    return 0


@_guard
def cmd_remove(args: argparse.Namespace) -> int:
    from core.cli.cli_actor import cli_actor

    _store(args).remove(args.name, by=cli_actor())
    print(f"removed user {args.name.strip().lower()!r}")
    return 0


@_guard
def cmd_reset_password(args: argparse.Namespace) -> int:
    from core.auth import check_name
    from core.cli.cli_actor import cli_actor

    name = check_name(args.name)
    store = _store(args)
    if store.get(name) is None:
        raise CliError(f"no user {name!r} (see `lineinspect users list`)")
    store.reset_password(name, read_secret(args, name), by=cli_actor())
    print(f"new password set for {name!r}")
    return 0


@_guard
def cmd_set_role(args: argparse.Namespace) -> int:
    from core.cli.cli_actor import cli_actor

    _store(args).set_role(args.name, args.role, by=cli_actor())
    print(f"{args.name.strip().lower()!r} is now {args.role.strip().lower()}")
    return 0
