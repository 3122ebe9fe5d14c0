"""A headless station in this process for the line I/O benches: a recipe with a randomly
initialised model of a preset (speed does not depend on the weights), the simulated line, the
line interface with the links given, and a probe that sees every result as it is ready."""

from __future__ import annotations

import contextlib
import tempfile
import threading
import time
from pathlib import Path

from bench.live import make_bundle


class ResultProbe:
    """An inspection worker's consumer: seq -> (t_trigger, t_ready) of every result."""

    def __init__(self) -> None:
        self.times: dict[int, tuple[float, float]] = {}
        self.order: list[int] = []
        self._cond = threading.Condition()

    def __call__(self, result) -> None:
        frame = result.frame
        t_trigger = float(frame.metadata.get("t_trigger", frame.timestamp))
        with self._cond:
            self.times[frame.frame_id] = (t_trigger, float(result.t_done or time.monotonic()))
            self.order.append(frame.frame_id)
            self._cond.notify_all()

    def wait_new(self, after: int, timeout: float) -> int | None:
        """The seq of the first result after the ``after``-th one, or None by the timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.order) <= after:
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
            return self.order[after]


@contextlib.contextmanager
def bench_station(transports: list[dict], *, preset: str = "fast", source: str = "sim",
                  mode: str = "triggered", mapping: dict | None = None, device: str = "cpu",
                  bundle: Path | None = None):
    """Yield (station, probe) with the station open (line started, recipe inspecting);
    ``transports``: [[transport]] tables as in line_io.toml (with "kind"); ``bundle``: a
    trained model (e.g. the demo's) instead of random weights of ``preset``."""
    from core.camera.registry import open_source
    from core.lineio.config import LineConfig
    from core.lineio.hub import LineInterface
    from core.lineio.registry import TransportContext
    from core.station.station import Station, triggered_opener
    from core.store.recipe_store import RecipeStore
    from core.store.results import ResultsStore

    tmp = Path(tempfile.mkdtemp(prefix="lineinspector-bench-line-"))
    data = tmp / "data"
    bundle = Path(bundle) if bundle is not None else make_bundle(preset, tmp)
    recipes = RecipeStore(data)
    recipes.create("bench", source=source, bundle=bundle)
    config = LineConfig.from_dict({"mapping": dict(mapping or {}), "transport": list(transports)})
    holder: dict = {}
    context = TransportContext(data_dir=data, camera=lambda: holder["s"].camera() if holder else None)
    line = LineInterface(config, context=context)
    opener = triggered_opener(open_source) if mode == "triggered" else None
    station = Station(data, "bench", source, mode=mode, device=device, line=line, recipes=recipes,
                      results=ResultsStore(data), source_opener=opener)
    holder["s"] = station
    probe = ResultProbe()
    station.open()
    try:
        station.session.worker.add_consumer(probe)
        yield station, probe
    finally:
        station.close()
