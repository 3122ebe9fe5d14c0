"""The line's orders reach the session controller on the GUI thread and are carried out; the
window's link indicator and Line I/O entry."""

import threading

import pytest

pytest.importorskip("pytestqt")

from core.lineio.contract import LineInput  # noqa: E402
from core.store.recipe_store import RecipeStore  # noqa: E402
from tests import lineio_gui_fakes as fakes  # noqa: E402
from tests.test_gui_lineio import TOML, hub_factory, loop_kind  # noqa: E402,F401

pytestmark = pytest.mark.gui


class FakeSession:
    opened: list[str] = []

    def __init__(self, recipe, bundle, spec, **kw):
        self.recipe, self.source_spec, self.grabber = recipe, spec, None

    def open(self):
        FakeSession.opened.append(self.recipe.name)

    def close(self, timeout=10.0):
        return True


@pytest.fixture
def controller(qtbot, tmp_path, loop_kind):
    from app.workers.session_controller import SessionController
    from tests.inspection_fakes import make_tiny_bundle

    data = tmp_path / "data"
    store = RecipeStore(data)
    bundle = make_tiny_bundle(tmp_path / "t.limodel")
    for name in ("alpha", "beta"):
        store.create(name, source="sim", bundle=bundle)
    (data / "line_io.toml").write_text(TOML)
    FakeSession.opened = []
    c = SessionController(data, session_factory=FakeSession, line_factory=hub_factory())
    qtbot.waitUntil(lambda: c.line.hub is not None, timeout=10000)
    yield c
    assert c.shutdown()


def test_a_command_from_a_transport_thread_is_carried_out_on_the_gui_thread(qtbot, controller):
    c = controller
    plc = fakes.BUILT[-2]
    threads = []
    c.lineCommand.connect(lambda cmd, said: threads.append(threading.current_thread()))
    c.start("alpha").result(10)

    def order(kind, value=None):
        with qtbot.waitSignal(c.lineCommand, timeout=5000) as got:
            plc.send_from_thread(kind, value).join(5)
        return got.args[1]

    assert order(LineInput.RECIPE, 2) == "RECIPE 2: switching to 'beta'"
    qtbot.waitUntil(lambda: FakeSession.opened == ["alpha", "beta"], timeout=10000)
    assert threads and all(t is threading.main_thread() for t in threads)
    assert order(LineInput.STOP) == "STOP: stopping"
    qtbot.waitUntil(lambda: c.session is None, timeout=10000)
    with qtbot.waitSignal(c.recipeSelected, timeout=5000):
        assert order(LineInput.RECIPE, "alpha") == "RECIPE alpha: 'alpha' selected"  # stopped: selected only
    assert FakeSession.opened == ["alpha", "beta"]
    assert order(LineInput.START) == "START: starting 'alpha'"
    qtbot.waitUntil(lambda: FakeSession.opened[-1:] == ["alpha"] and c.session is not None, timeout=10000)
    c.counters.add("NG")
    assert "reset" in order(LineInput.RESET_COUNTERS)
    assert c.counters.snapshot().ng == 0
    with qtbot.waitSignal(c.alarmAcknowledged, timeout=5000):
        plc.send_from_thread(LineInput.ACK_ALARM).join(5)
    with qtbot.waitSignal(c.failed, timeout=5000) as failed:
        plc.send_from_thread(LineInput.RECIPE, 7).join(5)
    assert failed.args[0] == "Line I/O: RECIPE from plc refused: recipe number 7 is not in the list (1-2)"
    assert c.session.recipe.name == "alpha"


def test_a_bad_line_io_file_is_one_line_and_inspection_still_starts(qtbot, tmp_path, loop_kind):
    from app.workers.session_controller import SessionController
    from tests.inspection_fakes import make_tiny_bundle

    data = tmp_path / "data"
    RecipeStore(data).create("alpha", source="sim", bundle=make_tiny_bundle(tmp_path / "t.limodel"))
    (data / "line_io.toml").write_text(TOML.replace("deadline_ms = 0", "deadline_ms = 9999999"))
    c = SessionController(data, session_factory=FakeSession, line_factory=hub_factory())
    try:
        with qtbot.waitSignal(c.line.changed, timeout=10000):
            pass
        assert c.line.hub is None and "deadline_ms" in c.line.error and "\n" not in c.line.error
        c.start("alpha").result(10)
        assert c.session is not None
    finally:
        assert c.shutdown()


def test_the_window_shows_the_links_and_opens_the_page(qtbot, tmp_path, loop_kind, monkeypatch):
    from app.workers import line_control
    from tests.gui_helpers import make_data_dir, open_window, sign_in

    monkeypatch.setattr(line_control, "_default_hub", hub_factory())
    data = make_data_dir(tmp_path)
    (data / "line_io.toml").write_text(TOML)
    window = open_window(qtbot, data)
    try:
        ind = window.status.line_indicator
        qtbot.waitUntil(lambda: ind.isVisible() and "connecting" in ind.label.text(), timeout=10000)
        assert ind.label.text() == "Line I/O: 1/2 links (connecting)" and "mes: connecting" in ind.toolTip()
        plc, mes = fakes.BUILT[-2:]
        mes.state = "connected"
        qtbot.waitUntil(lambda: ind.label.text() == "Line I/O: 2/2 links", timeout=10000)
        mes.state, mes.detail = "down", "connection refused"
        qtbot.waitUntil(lambda: ind.view.colour == "#c5221f", timeout=10000)
        assert "mes" in ind.label.text() and "connection refused" in ind.toolTip()
        qtbot.waitUntil(lambda: window.controller.line.stats().sent > 0, timeout=30000)  # results reach the line
        sign_in(qtbot, window)  # the Line I/O page needs an engineer
        window.toolbar.lineio_action.trigger()
        page = window.line_io.dialog
        assert page is not None and page.isVisible() and page.config.transports.list.count() == 2
        page.config.transports.list.item(0).setCheckState(page.config.transports.list.item(0).checkState().Unchecked)
        page.config.transports.list.item(1).setCheckState(page.config.transports.list.item(1).checkState().Unchecked)
        page.config.apply_button.click()  # no link enabled: the indicator goes
        qtbot.waitUntil(lambda: not ind.isVisible(), timeout=10000)
        assert window.controller.line.hub is None
    finally:
        window.close()
