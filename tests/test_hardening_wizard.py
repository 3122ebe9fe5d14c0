"""Issue 13 items 8-10: the wizard's region of interest, time estimate, CPU sharing, time budget.

No real training here: the measuring probe is a fake whose step timings the test chooses.
"""

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("pytestqt")

from app.wizard.context import WizardContext  # noqa: E402
from app.wizard.wizard import TrainingWizard  # noqa: E402
from core.recipe import Roi  # noqa: E402
from core.store import RecipeStore  # noqa: E402

SIM = "sim:defect_rate=0,width=128,height=96,fps=50"


def _wizard(qtbot, tmp_path, **kw):
    ctx = WizardContext(RecipeStore(tmp_path / "data"), source=SIM, preset="tiny", workers=0,
                        device="cpu", **kw)
    w = TrainingWizard(context=ctx)
    qtbot.addWidget(w)
    w.show()
    return w


def _boxes(part) -> Roi:
    return Roi(*(part.spins[k].value() for k in ("x", "y", "w", "h")))


# --- item 8: the region of interest -----------------------------------------------------------
def test_roi_defaults_to_the_whole_frame_with_the_boxes_in_step(qtbot, tmp_path):
    w = _wizard(qtbot, tmp_path)
    try:
        part = w.part
        assert _boxes(part) == part.roi_view.roi()          # in step before any frame
        part.name_edit.setText("bracket")
        assert part.open_camera()
        qtbot.waitUntil(lambda: w.feed.last is not None, timeout=5000)
        assert part.roi_view.roi() == Roi(0, 0, 128, 96)    # the whole frame, not a corner
        assert _boxes(part) == Roi(0, 0, 128, 96)
        part.spins["w"].setValue(100)                       # typed: the rectangle follows
        assert part.roi_view.roi() == Roi(0, 0, 100, 96)
        w.feed.wait_frame(2.0)                              # later frames keep the choice
        assert part.roi_view.roi() == Roi(0, 0, 100, 96) == _boxes(part)
        w.next()
        assert w.currentPage() is w.collect and w.ctx.roi == Roi(0, 0, 100, 96)
    finally:
        w.shutdown()


def test_roi_clicked_through_is_the_whole_frame(qtbot, tmp_path):
    w = _wizard(qtbot, tmp_path)
    try:
        w.part.name_edit.setText("bracket")
        w.next()                                            # opens the camera itself
        assert w.currentPage() is w.collect and w.ctx.roi == Roi(0, 0, 128, 96)
        assert _boxes(w.part) == Roi(0, 0, 128, 96)
    finally:
        w.shutdown()


def test_retrain_keeps_the_recipes_roi_when_frames_arrive(qtbot, tmp_path):
    from tests.inspection_fakes import make_tiny_bundle

    store = RecipeStore(tmp_path / "data")
    roi = Roi(8, 8, 64, 48)
    store.create("plate", source=SIM, roi=roi, bundle=make_tiny_bundle(tmp_path / "t.limodel"))
    w = _wizard(qtbot, tmp_path)
    try:
        part = w.part
        part.retrain_radio.setChecked(True)
        assert part.roi_view.roi() == roi == _boxes(part)
        assert part.open_camera()
        qtbot.waitUntil(lambda: w.feed.last is not None, timeout=5000)
        assert part.roi_view.roi() == roi == _boxes(part)
        w.next()
        assert w.ctx.roi == roi
    finally:
        w.shutdown()


# --- items 9, 10: the time estimate, sharing the cores, the time budget ----------------------
class FakeProbe:
    """A measuring probe whose step timing the test gives (``finish``)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self.cancelled = 0
        self._done = None

    @property
    def busy(self) -> bool:
        return self._done is not None

    def start(self, preset, threads, device, done, model=None) -> None:
        self.cancel()
        self.calls.append((preset, threads, device) + ((model,) if model else ()))
        self._done = done

    def cancel(self) -> None:
        if self._done is not None:
            self.cancelled += 1
            self._done = None

    def finish(self, seconds_per_step, error="") -> None:
        done, self._done = self._done, None
        done(seconds_per_step, error)


class FakeLive:
    def __init__(self) -> None:
        self.log: list[str] = []

    def describe(self):
        return "recipe 'demo' on sim"

    def pause(self, why: str) -> None:
        self.log.append("pause")

    def resume(self) -> None:
        self.log.append("resume")


class FakeRunner:
    """Stands for TrainingRunner: records the spec; the test sends the events."""

    made: list = []

    def __init__(self, spec, on_event=None) -> None:
        self.spec, self.proc, self.final = spec, None, None
        FakeRunner.made.append(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.final is None

    def start(self) -> None:
        self.proc = object()

    def resume(self) -> None:
        self.start()

    def cancel(self, kill_after=None) -> None:
        pass

    def wait(self, timeout=None):
        return self.final


def _train_page(qtbot, tmp_path, live=None, auto_measure=True):
    w = _wizard(qtbot, tmp_path, auto_measure=auto_measure)
    w.ctx.recipe_name, w.ctx.live = "bracket", live
    page = w.train
    page.probe = FakeProbe()
    page.runner_factory = FakeRunner
    page.initializePage()
    return w, page


def _select(page, preset: str) -> None:
    page.preset_combo.setCurrentIndex(page.preset_combo.findData(preset))


def test_estimate_says_measuring_and_is_remeasured_when_the_preset_changes(qtbot, tmp_path):
    w, page = _train_page(qtbot, tmp_path)
    try:
        probe = page.probe
        threads = page.share.threads
        assert threads and probe.calls == [("tiny", threads, "cpu")]
        assert "measuring" in page.estimate_label.text()
        page.minutes_spin.setValue(5)                    # still measuring, not "not measured"
        assert "measuring" in page.estimate_label.text()
        _select(page, "fast")                            # mid-measurement: tiny's is stale
        assert probe.cancelled == 1 and probe.calls[-1] == ("fast", threads, "cpu")
        assert "measuring" in page.estimate_label.text() and "not measured" not in page.estimate_label.text()
        probe.finish(0.5)
        assert page.seconds_per_step == {"fast": 0.5}
        assert page.estimate_label.text().startswith("20 min: about 2400 steps")
        _select(page, "tiny")                            # never measured: measured now
        assert probe.calls[-1][0] == "tiny" and "measuring" in page.estimate_label.text()
        probe.finish(None, "out of memory")
        assert "could not measure tiny: out of memory" in page.estimate_label.text()
        assert page._spec().threads == threads           # the run gets what was measured
    finally:
        w.shutdown()


def test_live_inspection_is_paused_while_measuring_and_training_on_a_cpu(qtbot, tmp_path):
    live = FakeLive()
    w, page = _train_page(qtbot, tmp_path, live=live)
    try:
        assert page.share.pause_live
        assert page.probe.calls == [] and live.log == []  # not paused behind the operator's back
        assert "not measured yet (press Measure)" in page.estimate_label.text()
        assert "pause live inspection (recipe 'demo' on sim)" in page.share_label.text()
        page.measure()
        assert live.log == ["pause"] and "measuring" in page.estimate_label.text()
        page.probe.finish(0.25)
        assert live.log == ["pause", "resume"]
        page.measure()                                   # measured again, then training starts
        page.start()
        assert page.probe.cancelled == 1 and live.log == ["pause", "resume", "pause"]
        runner = FakeRunner.made[-1]
        assert runner.spec.threads == page.share.threads
        event = {"event": "cancelled", "message": "cancelled"}
        runner.final = event
        page.on_event(event)
        assert live.log[-1] == "resume" and live.log.count("pause") == 2
        page.start()
        w.shutdown()                                     # the wizard closes mid-run
        assert live.log[-2:] == ["pause", "resume"]
    finally:
        w.shutdown()


def test_time_budget_reaches_the_run_and_the_estimate(qtbot, tmp_path):
    w, page = _train_page(qtbot, tmp_path)
    try:
        page.probe.finish(0.6)
        page.minutes_spin.setValue(45)
        assert page._spec().minutes == 45
        assert page.estimate_label.text().startswith("45 min: about 4500 steps")
        page.initializePage()                            # Back and Next again: the choice stays
        assert page.minutes_spin.value() == 45 and page._spec().minutes == 45
        page.minutes_spin.setValue(0)                    # "preset's steps"
        assert page._spec().minutes is None and "≈" in page.estimate_label.text()
        page.minutes_spin.setValue(10**6)                # the box keeps to its range
        assert page.minutes_spin.value() == 24 * 60
    finally:
        w.shutdown()


def test_describe_estimate_and_the_share_plan():
    from core.training.estimate import describe_estimate, main
    from core.training.presets import get_preset
    from core.training.share import CpuClaims, plan_share

    tiny = get_preset("tiny")
    assert describe_estimate(tiny, None, 0, 10, measuring=True, threads=2).endswith(
        "measuring on this machine, 2 threads…")
    assert describe_estimate(tiny, 0.5, 0, 10, threads=1) == \
        "≈ 15 s on this machine (0.50 s per step, 1 thread, 10 images)"   # 20 x 0.5 + 5
    assert plan_share(cuda=True).pause_live is False and plan_share(cuda=True).threads is None
    assert plan_share(cuda=False, cores=2, env={}).threads == 2
    assert plan_share(cuda=False, cores=2, env={"LINEINSPECTOR_THREADS": "1"}).threads == 1
    assert plan_share(cuda=False, cores=2, env={"LINEINSPECTOR_THREADS": "x"}).threads == 2
    log = []
    claims = CpuClaims(lambda why: log.append("pause"), lambda: log.append("resume"))
    claims.claim("probe", "measuring")
    claims.claim("run", "training")
    claims.release("probe")
    claims.release("probe")
    assert log == ["pause"]
    claims.release_all()
    assert log == ["pause", "resume"]
    assert main(["--threads", "0"]) == 1 and main(["--steps", "-1"]) == 1


def test_controller_pauses_and_resumes_live_inspection(qtbot, tmp_path):
    from app.workers.session_controller import SessionController
    from tests.inspection_fakes import make_tiny_bundle

    opened = []

    class FakeSession:
        def __init__(self, recipe, bundle, spec, **kw):
            self.recipe, self.source_spec, self.grabber = recipe, spec, None

        def open(self):
            opened.append(self.recipe.name)

        def close(self, timeout=10.0):
            return True

    store = RecipeStore(tmp_path / "data")
    store.create("demo", source="sim", bundle=make_tiny_bundle(tmp_path / "t.limodel"))
    c = SessionController(tmp_path / "data", session_factory=FakeSession)
    seen = []
    c.pausedChanged.connect(seen.append)
    try:
        c.resume_live().result(10)                       # nothing paused: nothing started
        assert opened == []
        c.start("demo").result(10)
        c.pause_live("training a model").result(10)
        assert c.session is None and c.paused == "training a model"
        c.resume_live().result(10)
        assert c.session is not None and opened == ["demo", "demo"] and c.paused == ""
        c.pause_live("training").result(10)
        c.start("demo").result(10)                       # the operator started it himself
        c.resume_live().result(10)
        assert opened == ["demo"] * 3 and c.paused == ""
        qtbot.waitUntil(lambda: seen[-1:] == [""], timeout=2000)
        assert "training a model" in seen
    finally:
        c.shutdown()


def test_window_pauses_inspection_while_its_wizard_trains(qtbot, tmp_path):
    from tests.gui_helpers import make_data_dir, open_window

    window = open_window(qtbot, make_data_dir(tmp_path), "--no-start")
    try:
        c = window.controller
        wizard = window.models.open_wizard()
        live = wizard.ctx.live
        assert live is not None and live.describe() is None        # nothing inspected yet
        c.start("demo").result(30)
        assert live.describe().startswith("recipe 'demo'")
        live.pause("training a model")
        qtbot.waitUntil(lambda: bool(c.paused) and window.tile.verdict_label.text() == "PAUSED", timeout=10000)
        assert c.session is None and "training a model" in window.status.message_label.text()
        live.resume()
        qtbot.waitUntil(lambda: c.session is not None and not c.paused, timeout=30000)
        qtbot.waitUntil(lambda: "resumed" in window.status.message_label.text(), timeout=5000)
    finally:
        window.close()
