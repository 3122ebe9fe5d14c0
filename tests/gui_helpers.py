"""Fixtures-in-functions for the GUI tests: a data folder with a tiny model, and the window."""

from __future__ import annotations

import threading
from pathlib import Path

from core.recipe import Thresholds
from core.store.recipe_store import RecipeStore
from tests.inspection_fakes import make_tiny_bundle

SIM = "sim:fps=30,width=96,height=96,seed=2"
OUR_THREADS = ("grabber", "inspection-worker", "results-recorder", "results-writer", "session-control")


def make_data_dir(root: Path, thresholds: Thresholds = Thresholds(0.3, 0.6, 0.5)) -> Path:
    bundle = make_tiny_bundle(root / "tiny.limodel")
    RecipeStore(root / "data").create("demo", source=SIM, bundle=bundle, thresholds=thresholds)
    return root / "data"


def open_window(qtbot, data_dir: Path, *extra: str):
    from app.main import build_parser, create_window

    window = create_window(build_parser().parse_args(["--data-dir", str(data_dir), *extra]))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def our_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.is_alive() and t.name.startswith(OUR_THREADS)]
