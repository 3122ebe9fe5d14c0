"""`lineinspect station --recipe NAME --source SOURCE`: the whole inspection loop with line
I/O and no window (a panel PC that only drives the line), as a service that stops cleanly on
SIGTERM (see installer/linux/lineinspect-station.service)."""

from __future__ import annotations

import math
from pathlib import Path

from core.cli.main import CliError

MODES = ("live", "triggered")
DEVICES = ("auto", "cpu", "cuda")
STATUS_RANGE = (0.5, 86400.0)


def register(sub) -> None:
    p = sub.add_parser("station", help="run the inspection station headless, with line I/O "
                                       "(stops cleanly on SIGTERM)")
    p.add_argument("--recipe", required=True, help="recipe to inspect (the line's RECIPE may change it)")
    p.add_argument("--source", default=None,
                   help="camera SOURCE (default: the recipe's), e.g. sim, genicam:SERIAL, a folder")
    p.add_argument("--data-dir", type=Path, default=None, help="data folder (default: the user's)")
    p.add_argument("--line-io", type=Path, default=None, metavar="FILE",
                   help="line I/O configuration (default: DATA_DIR/line_io.toml; none: no links)")
    p.add_argument("--mode", default="live", help="live (newest frame) or triggered (every "
                   "frame; the camera waits for the line's TRIGGER). Default live")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    p.add_argument("--status-every", default="10", metavar="SECONDS",
                   help=f"print a status line this often ({STATUS_RANGE[0]:g}-{STATUS_RANGE[1]:g} s, default 10)")
    p.set_defaults(func=run)


def _checked(args) -> float:
    if args.mode not in MODES:
        raise CliError(f"--mode must be one of {', '.join(MODES)}, got {str(args.mode)[:40]!r}")
    if args.device not in DEVICES and not str(args.device).startswith("cuda:"):
        raise CliError(f"--device must be one of {', '.join(DEVICES)} (or cuda:N), got {str(args.device)[:40]!r}")
    try:
        every = float(args.status_every)
    except ValueError:
        every = math.nan
    if not math.isfinite(every) or not STATUS_RANGE[0] <= every <= STATUS_RANGE[1]:
        raise CliError(f"--status-every must be a number of seconds {STATUS_RANGE[0]:g}-{STATUS_RANGE[1]:g}, "
                       f"got {str(args.status_every)[:40]!r}")
    if args.line_io is not None and not args.line_io.is_file():
        raise CliError(f"--line-io: no such file {args.line_io}")
    return every


def run(args) -> int:
    import threading

    from core.camera.errors import CameraError
    from core.lineio.config import load_line_config
    from core.lineio.hub import LineInterface
    from core.lineio.registry import LineConfigError, TransportContext
    from core.recipe import RecipeError
    from core.station.service import install_stop_signals, serve
    from core.station.station import Station, triggered_opener
    from core.store import paths
    from core.store.errors import StoreError
    from core.store.recipe_store import RecipeStore
    from core.store.results import ResultsStore

    every = _checked(args)
    data = paths.data_dir(args.data_dir)
    recipes = RecipeStore(data)
    if args.recipe == "demo" and not recipes.exists("demo"):
        from core.demo import ensure_demo_recipe

        ensure_demo_recipe(recipes)
    if not recipes.exists(args.recipe):
        names = ", ".join(recipes.names()) or "none"
        raise CliError(f"--recipe: no recipe named {args.recipe!r} in {data} (recipes: {names})")
    holder: dict = {}
    try:
        config = load_line_config(data, args.line_io)
        context = TransportContext(data_dir=data, camera=lambda: holder["s"].camera() if holder else None)
        line = LineInterface(config, context=context)
    except LineConfigError as exc:
        raise CliError(str(exc)) from None
    opener = None
    if args.mode == "triggered":
        from core.camera.registry import open_source

        opener = triggered_opener(open_source)
    from core.inspection.counters import ShiftContext, StationCounters
    from core.shifts.config import ShiftConfigError, load_schedule

    try:
        counters = StationCounters(ShiftContext(load_schedule(data)))
    except ShiftConfigError as exc:
        raise CliError(str(exc)) from None
    station = Station(data, args.recipe, args.source, mode=args.mode, device=args.device, line=line,
                      recipes=recipes, results=ResultsStore(data), source_opener=opener,
                      counters=counters)
    holder["s"] = station
    stop = threading.Event()
    undo = install_stop_signals(stop)
    try:
        report = serve(station, stop, every, say=lambda text: print(text, flush=True))
    except (LineConfigError, RecipeError, StoreError, CameraError, ValueError) as exc:
        raise CliError(f"station: {exc}") from None
    finally:
        undo()
    return 0 if report.stopped_cleanly else 1
