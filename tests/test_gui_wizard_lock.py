"""The window's training wizard when the session signs out or locks (offscreen Qt; a fake clock
for the idle lock; a fake training runner, no training process): hidden, not closed, its run
goes on; back on the same page, up to date, when an engineer signs in again."""

import threading

import cv2
import numpy as np
import pytest

pytest.importorskip("pytestqt")

from core.training.collect import MINIMUM_SAMPLES  # noqa: E402
from core.training.runner import FINAL_EVENTS  # noqa: E402
from tests.gui_helpers import make_data_dir, open_window, sign_in  # noqa: E402
from tests.lineio_fakes import FakeClock  # noqa: E402
from tests.test_hardening_wizard import FakeProbe, FakeRunner  # noqa: E402

pytestmark = pytest.mark.gui

BACKGROUND = "Training continues in the background: sign in to see it"


class Runner(FakeRunner):
    """The fake runner, keeping the callback its events go to and counting cancels."""

    def __init__(self, spec, on_event=None) -> None:
        super().__init__(spec, on_event)
        self.on_event, self.cancels = on_event, 0

    def cancel(self, kill_after=None) -> None:
        self.cancels += 1


@pytest.fixture
def window(qtbot, tmp_path):
    w = open_window(qtbot, make_data_dir(tmp_path), "--no-start")
    yield w
    w.close()


def _open_wizard(qtbot, w):
    """Train model… as the signed-in engineer: the wizard set to retrain 'demo', with fakes
    for the Train page's measuring probe and training process."""
    w.toolbar.train_action.trigger()
    wizard = w.models.wizard
    assert wizard is not None and wizard.isVisible()
    wizard.train.probe, wizard.train.runner_factory = FakeProbe(), Runner
    wizard.part.retrain_radio.setChecked(True)
    wizard.part.recipe_combo.setCurrentText("demo")
    return wizard


def _walk_to_train_page(qtbot, wizard, tmp_path):
    good = tmp_path / "good"
    good.mkdir()
    rng = np.random.default_rng(0)
    for i in range(MINIMUM_SAMPLES):  # noise: no two are near-duplicates
        cv2.imwrite(str(good / f"g{i}.png"), rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    wizard.next()  # Part: opens the simulated camera
    assert wizard.currentPage() is wizard.collect, wizard.part.message.text()
    assert wizard.collect.import_folder(good) == MINIMUM_SAMPLES
    wizard.next()
    wizard.next()
    assert wizard.currentPage() is wizard.train


def _start_training(qtbot, w, tmp_path):
    """An engineer's wizard on the Train page with a (fake) training run going on."""
    sign_in(qtbot, w)
    wizard = _open_wizard(qtbot, w)
    _walk_to_train_page(qtbot, wizard, tmp_path)
    wizard.train.start()
    runner = wizard.train.runner
    assert wizard.train.running and isinstance(runner, Runner)
    return wizard, runner


def _report(runner, event: dict) -> None:
    """The run reports ``event`` from its reader thread, as TrainingRunner does."""
    if event["event"] in FINAL_EVENTS:
        runner.final = event
    reader = threading.Thread(target=runner.on_event, args=(event,))
    reader.start()
    reader.join()


def test_sign_out_hides_the_wizard_its_training_goes_on_sign_in_shows_it(qtbot, window, tmp_path):
    w = window
    wizard, runner = _start_training(qtbot, w, tmp_path)
    train = wizard.train
    w.toolbar.sign_in_action.trigger()  # sign out
    assert not wizard.isVisible() and w.models.wizard is wizard  # hidden, not closed
    assert train.running and train.runner is runner and runner.cancels == 0
    assert BACKGROUND in w.status.message_label.text()
    # an operator cannot reach it: Train model… is disabled and refuses if reached anyway
    assert not w.toolbar.train_action.isEnabled()
    w.roles.guarded("train", w.models.open_wizard)()
    assert not wizard.isVisible()
    _report(runner, {"event": "progress", "step": 7, "total": 40, "losses": {}})  # nobody looks
    qtbot.waitUntil(lambda: train.bar.value() == 7, timeout=5000)

    sign_in(qtbot, w)
    assert wizard.isVisible() and wizard.currentPage() is train
    assert train.running and runner.cancels == 0
    assert train.bar.maximum() == 40 and train.eta_label.text().startswith("step 7/40")
    assert BACKGROUND not in w.status.message_label.text()

    w.toolbar.sign_in_action.trigger()  # hidden again, and the run ends meanwhile
    _report(runner, {"event": "cancelled", "message": "cancelled"})
    qtbot.waitUntil(lambda: "Training has ended" in w.status.message_label.text(), timeout=5000)
    assert not wizard.isVisible() and w.models.wizard is wizard


def test_closing_the_window_while_the_wizard_is_hidden_stops_its_run(qtbot, window, tmp_path):
    w = window
    wizard, runner = _start_training(qtbot, w, tmp_path)
    w.toolbar.sign_in_action.trigger()
    assert not wizard.isVisible() and runner.cancels == 0
    w.close()  # the run stops (its checkpoint kept) with the window, hidden or not
    assert runner.cancels >= 1


def test_idle_lock_hides_the_wizard_and_an_engineer_gets_it_back(qtbot, window):
    w = window
    clock = FakeClock(1000.0)
    w.roles.gate.session.clock = clock
    sign_in(qtbot, w)
    wizard = _open_wizard(qtbot, w)
    wizard.next()  # on to Collect (opens the simulated camera)
    page = wizard.currentId()
    assert wizard.currentPage() is wizard.collect, wizard.part.message.text()
    clock.t += 301  # idle_lock_s is 300
    w.roles.gate.check_idle()
    assert w.roles.gate.user_name is None and not wizard.isVisible()
    assert w.models.wizard is wizard
    assert BACKGROUND not in w.status.message_label.text()  # nothing was training
    sign_in(qtbot, w, "root", "12345678", role="administrator")
    assert wizard.isVisible() and wizard.currentId() == page
    assert w.models.open_wizard() is wizard  # Train model… shows the same one
    w.set_operator_mode(True)  # entering the kiosk signs out: hidden again
    assert not wizard.isVisible() and w.models.wizard is wizard
