"""`lineinspect self-test [OPTIONS]`: the headless installation check of core/selftest.py."""

from __future__ import annotations


def register(sub) -> None:
    from core.selftest import build_parser

    p = sub.add_parser("self-test", parents=[build_parser(add_help=False)],
                       help="check this installation headless (demo model, simulated line, viky.cti, "
                            "inspection, results store); exit status 0 when all passed",
                       description=build_parser().description)
    p.set_defaults(func=run)


def run(args) -> int:
    from core.selftest import run_checks

    return run_checks(args)
