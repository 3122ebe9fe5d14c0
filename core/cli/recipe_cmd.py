"""`lineinspect recipe ...`: list, show, create recipes; manage their model versions."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.cli.main import CliError

DATA_DIR_HELP = "data folder (default: $LINEINSPECTOR_DATA or the platform's user data folder)"


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--data-dir", type=Path, default=None, help=DATA_DIR_HELP)
    return p


def register(subparsers: argparse._SubParsersAction) -> None:
    common = _common()
    parser = subparsers.add_parser("recipe", help="manage recipes and their model versions",
                                   description="Manage recipes (one per inspected part) and "
                                               "their model versions.")
    sub = parser.add_subparsers(dest="recipe_command", metavar="ACTION", required=True)

    p = sub.add_parser("list", parents=[common], help="list recipes (and broken ones)")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", parents=[common], help="show a recipe and its versions")
    p.add_argument("name")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("create", parents=[common], help="create a recipe")
    p.add_argument("name")
    p.add_argument("--source", default="", help="camera source (e.g. genicam:SERIAL)")
    p.add_argument("--setting", action="append", default=[], metavar="KEY=VALUE",
                   help="camera setting (repeatable), e.g. ExposureTime=5000")
    p.add_argument("--roi", metavar="X,Y,W,H", help="region of interest in pixels")
    p.add_argument("--rotate", type=int, default=0, choices=(0, 90, 180, 270))
    p.add_argument("--model", type=Path, metavar="BUNDLE",
                   help="model bundle: added as version 1 and activated")
    p.add_argument("--trained-from", help="training data description (default: from bundle)")
    p.add_argument("--ok-limit", type=float, help="scores below this are OK")
    p.add_argument("--ng-limit", type=float, help="scores at or above this are NG")
    p.add_argument("--pixel-threshold", type=float, help="pixel threshold for heat maps")
    p.add_argument("--false-reject", type=float, default=0.01,
                   help="false-reject target used to calibrate the limits (default 0.01)")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("versions", parents=[common], help="list a recipe's model versions")
    p.add_argument("name")
    p.set_defaults(func=cmd_versions)

    p = sub.add_parser("add-version", parents=[common], help="add a model bundle as a version")
    p.add_argument("name")
    p.add_argument("bundle", type=Path)
    p.add_argument("--trained-from", help="training data description (default: from bundle)")
    p.add_argument("--activate", action="store_true", help="activate it right away")
    p.add_argument("--reason", help="why (recorded in the audit trail)")
    p.set_defaults(func=cmd_add_version)

    p = sub.add_parser("activate", parents=[common], help="activate a model version")
    p.add_argument("name")
    p.add_argument("version", type=int)
    p.add_argument("--keep-thresholds", action="store_true",
                   help="keep the recipe's limits instead of the bundle's calibrated ones")
    p.add_argument("--reason", help="why (recorded in the audit trail)")
    p.set_defaults(func=cmd_activate)

    p = sub.add_parser("rollback", parents=[common],
                       help="re-activate the previously active model version")
    p.add_argument("name")
    p.add_argument("--keep-thresholds", action="store_true",
                   help="keep the recipe's limits instead of the bundle's calibrated ones")
    p.add_argument("--reason", help="why (recorded in the audit trail)")
    p.set_defaults(func=cmd_rollback)


def _store(args: argparse.Namespace):
    from core.store import RecipeStore

    return RecipeStore(args.data_dir)


def _guard(fn):
    """Turn store and recipe errors (bad input, missing recipe, broken bundle) into CliError."""
    def wrapped(args: argparse.Namespace) -> int:
        from core.recipe import RecipeError
        from core.store import StoreError

        try:
            return fn(args)
        except (StoreError, RecipeError) as exc:
            raise CliError(str(exc)) from None
    wrapped.__name__ = fn.__name__
    wrapped.__doc__ = fn.__doc__
    return wrapped


def _fmt_thresholds(r) -> str:
    t = r.thresholds
    if t is None:
        return "not set"
    return f"OK < {t.ok_limit:g} <= REVIEW < {t.ng_limit:g} <= NG, pixel {t.pixel:g}"


def _state(recipe) -> dict:
    """What a deploy or rollback changes, for the audit trail: the version and the limits."""
    t = recipe.thresholds
    limits = None if t is None else {"ok_limit": t.ok_limit, "ng_limit": t.ng_limit,
                                     "pixel": t.pixel}
    return {"version": recipe.active_version, "thresholds": limits}


def _audit(args: argparse.Namespace, action: str, before, after) -> None:
    from core.cli.cli_actor import record

    reason = (getattr(args, "reason", None) or "").strip() or "(none given on the command line)"
    record(args, action, after.name, before and _state(before), _state(after), reason)


@_guard
def cmd_list(args: argparse.Namespace) -> int:
    store = _store(args)
    listing = store.list()
    if not listing.recipes and not listing.errors:
        print(f"no recipes in {store.root}")
        return 0
    for r in listing.recipes:
        active = f"v{r.active_version}" if r.active_version is not None else "no model"
        print(f"{r.name:<24} {active:<9} {_fmt_thresholds(r)}")
    for name, err in listing.errors:  # a folder name may hold any character: quote odd ones
        shown = name if name.isprintable() and name.strip() == name else repr(name)
        print(f"{shown:<24} BROKEN    {' '.join(err.splitlines())}")
    return 1 if listing.errors else 0


@_guard
def cmd_show(args: argparse.Namespace) -> int:
    import tomli_w

    store = _store(args)
    recipe = store.get(args.name)
    print(f"# {store.recipe_file(args.name)}")
    print(tomli_w.dumps(recipe.to_dict()))
    _print_versions(store.versions(args.name), recipe.active_version)
    return 0


def _print_versions(versions, active: int | None) -> None:
    if not versions:
        print("no model versions")
        return
    print(f"{'':2}{'ver':>4}  {'deployed (UTC)':<25} {'by':<12} {'trained':<25} from / validation")
    for v in versions:
        mark = "*" if v.version == active else ("x" if v.deleted else " ")
        figures = ", ".join(f"{k}={val:.4g}" if isinstance(val, float) else f"{k}={val}"
                            for k, val in sorted(v.validation.items()))
        print(f"{mark:2}{v.version:>4}  {v.deployed_at:<25} {v.deployed_by:<12} "
              f"{v.trained_at or '?':<25} {v.trained_from or '?'}"
              f"{'  [' + figures + ']' if figures else ''}"
              f"{'  (deleted)' if v.deleted else ''}")
    print("(* active, x deleted)")


def _parse_setting(text: str) -> tuple[str, object]:
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise CliError(f"--setting {text!r}: expected KEY=VALUE")
    raw = raw.strip()
    if raw.lower() in ("true", "false"):
        return key.strip(), raw.lower() == "true"
    for cast in (int, float):
        try:
            return key.strip(), cast(raw)
        except ValueError:
            pass
    return key.strip(), raw


def _parse_roi(text: str | None):
    from core.recipe import Roi

    if text is None:
        return None
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise CliError(f"--roi {text!r}: expected four integers X,Y,W,H") from None
    return Roi(x, y, w, h)


def _thresholds(args: argparse.Namespace):
    """Explicit limits from the options, completed from the bundle; None if none given."""
    from core.recipe import Thresholds
    from core.store.versions import read_bundle_meta_checked, thresholds_from_meta

    given = {"ok_limit": args.ok_limit, "ng_limit": args.ng_limit,
             "pixel": args.pixel_threshold}
    if all(v is None for v in given.values()):
        return None
    base = {}
    if args.model is not None:
        calibrated = thresholds_from_meta(read_bundle_meta_checked(args.model), args.model)
        base = {} if calibrated is None else calibrated.to_dict()
    merged = {k: v if v is not None else base.get(k) for k, v in given.items()}
    missing = [f"--{k.replace('_', '-')}" if k != "pixel" else "--pixel-threshold"
               for k, v in merged.items() if v is None]
    if missing:
        raise CliError(f"also give {', '.join(missing)} (no calibrated value in a model bundle)")
    return Thresholds(**merged)


@_guard
def cmd_create(args: argparse.Namespace) -> int:
    from core.recipe import Preprocessing

    store = _store(args)
    settings = dict(_parse_setting(s) for s in args.setting)
    recipe = store.create(args.name, source=args.source, settings=settings,
                          roi=_parse_roi(args.roi), preprocessing=Preprocessing(rotate=args.rotate),
                          thresholds=_thresholds(args), false_reject_target=args.false_reject,
                          bundle=args.model, trained_from=args.trained_from)
    model = f"model v{recipe.active_version}" if recipe.active_version else "no model yet"
    print(f"created recipe '{recipe.name}' ({model}; thresholds: {_fmt_thresholds(recipe)})")
    print(f"  {store.recipe_file(recipe.name)}")
    _audit(args, "recipe_edit", None, recipe)
    return 0


@_guard
def cmd_versions(args: argparse.Namespace) -> int:
    store = _store(args)
    recipe = store.get(args.name, check_model=False)  # even if the active model is missing
    versions, problems = store.survey_versions(args.name)
    _print_versions(versions, recipe.active_version)
    for problem in problems:  # the good versions are listed; each bad one is named, not fatal
        print(f"error: {problem}", file=sys.stderr)
    return 2 if problems else 0  # 2: the exit status of every CLI error


@_guard
def cmd_add_version(args: argparse.Namespace) -> int:
    store = _store(args)
    v = store.add_version(args.name, args.bundle, trained_from=args.trained_from)
    print(f"recipe '{args.name}': added model version {v}")
    if args.activate:
        before = store.get(args.name, check_model=False)
        recipe = store.activate(args.name, v)
        print(f"recipe '{args.name}': activated v{v} ({_fmt_thresholds(recipe)})")
        _audit(args, "deploy", before, recipe)
    return 0


@_guard
def cmd_activate(args: argparse.Namespace) -> int:
    store = _store(args)
    before = store.get(args.name, check_model=False)
    recipe = store.activate(args.name, args.version, adopt_thresholds=not args.keep_thresholds)
    print(f"recipe '{args.name}': activated v{recipe.active_version} "
          f"({_fmt_thresholds(recipe)})")
    _audit(args, "deploy", before, recipe)
    return 0


@_guard
def cmd_rollback(args: argparse.Namespace) -> int:
    store = _store(args)
    before = store.get(args.name, check_model=False)
    recipe = store.rollback(args.name, adopt_thresholds=not args.keep_thresholds)
    print(f"recipe '{args.name}': rolled back from v{before.active_version} to "
          f"v{recipe.active_version} ({_fmt_thresholds(recipe)})")
    _audit(args, "rollback", before, recipe)
    return 0
