"""Results with archived images for the gallery and marks tests (written through the real
ResultsStore, so the rows and files are what the station writes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.store import ResultRecord, ResultsStore

T0 = 1_780_000_000.0  # a fixed wall time (2026): the tests never read the clock


def record(i: int, verdict: str, recipe: str = "demo", score: float | None = None) -> ResultRecord:
    s = {"OK": 0.1, "REVIEW": 0.45, "NG": 0.8}[verdict] if score is None else score
    return ResultRecord(time=T0 + 10.0 * i, recipe=recipe, model_version=1, ok_limit=0.3,
                        ng_limit=0.6, pixel_threshold=0.5, score=s, verdict=verdict,
                        frame_id=i, source="sim")


def part(i: int) -> tuple[np.ndarray, np.ndarray]:
    """A grey 64x64 image with a bright square at a place given by ``i``; its heat map."""
    image = np.full((64, 64, 3), 90, np.uint8)
    heat = np.zeros((64, 64), np.float32)
    x = 4 + (i * 7) % 48
    image[20:32, x:x + 12] = 230
    heat[18:34, x - 2:x + 14] = 0.9
    return image, heat


def fill(data_dir: Path, verdicts: list[str], recipe: str = "demo",
         start: int = 0) -> list[ResultRecord]:
    """Record ``verdicts`` in order (oldest first, from part ``start``) with images; the
    committed rows of ``recipe``, by id."""
    with ResultsStore(data_dir, max_delay_s=0.0) as store:
        for i, v in enumerate(verdicts, start=start):
            store.record(record(i, v, recipe), *part(i))
        store.flush()
        return sorted(store.iter_records(recipe), key=lambda r: r.id)
