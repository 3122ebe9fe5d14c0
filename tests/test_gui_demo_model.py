"""The shipped demo model in the live window: a part with a known defect is flagged, a clean
one is not. Frames are rendered by the simulated line (indices never used for training or
its test set) and replayed through the real window, model and thresholds of the demo recipe."""

from pathlib import Path

import numpy as np
import pytest

from core.camera.sim.line import SimLineConfig, SimLineRenderer
from core.demo import DEMO_MODEL
from core.io.images import write_image_atomic
from tests.gui_helpers import open_window, our_threads

pytestmark = [
    pytest.mark.gui,
    pytest.mark.skipif(not DEMO_MODEL.is_file(),
                       reason=f"demo model {DEMO_MODEL} not built yet "
                              f"(scripts/make_demo_model.py)"),
]
FIRST_INDEX = 300_000  # training used 0..239, its test set 100000..100119


def _pick_frames(folder: Path) -> dict[str, str]:
    """Write the first clearly defective and the first clean part after FIRST_INDEX."""
    renderer = SimLineRenderer(SimLineConfig(seed=0, defect_rate=0.5))
    chosen: dict[str, str] = {}
    for i in range(FIRST_INDEX, FIRST_INDEX + 200):
        image, meta = renderer.render(i)
        kind = "defect" if meta["defect_type"] else "clean"
        if kind in chosen or (kind == "defect" and np.count_nonzero(meta["defect_mask"]) < 150):
            continue
        path = folder / f"{len(chosen)}_{kind}.png"
        write_image_atomic(path, image)
        chosen[kind] = str(path)
        if len(chosen) == 2:
            return chosen
    raise AssertionError("the simulated line gave no clear defect and clean part in 200 frames")


def test_known_defect_flagged_and_clean_part_passes(qtbot, tmp_path):
    frames = _pick_frames(tmp_path / "frames")
    w = open_window(qtbot, tmp_path / "data", "--source", f"{tmp_path / 'frames'}?fps=4",
                    "--mode", "triggered")
    try:
        verdicts: dict[str, str] = {}
        qtbot.waitUntil(lambda: w.controller.session is not None, timeout=60000)
        w.controller.session.worker.add_consumer(
            lambda r: verdicts.setdefault(r.frame.metadata["path"], str(r.verdict)))
        qtbot.waitUntil(lambda: len(verdicts) == 2, timeout=30000)
        assert verdicts[frames["defect"]] == "NG"
        assert verdicts[frames["clean"]] == "OK"
    finally:
        w.close()
    assert our_threads() == []
