"""The Line I/O page against a running line interface with in-process links (the hub is not a
protocol; the transports' own tests talk to real peers): live state and inputs, Save's
validation, forcing (confirmed, logged) and the test buttons."""

import pytest

pytest.importorskip("pytestqt")

from app.lineio.dialog import LineIoDialog  # noqa: E402
from core.lineio.contract import LineInput, LineOutput  # noqa: E402
from tests import lineio_gui_fakes as fakes  # noqa: E402

pytestmark = pytest.mark.gui

TOML = """[mapping]
review_as = "ng"
deadline_ms = 0
fail_safe = "reject"
heartbeat_ms = 1000

[[transport]]
kind = "loop"
name = "plc"

[[transport]]
kind = "loop"
name = "mes"
state = "connecting"
"""


@pytest.fixture
def loop_kind(monkeypatch):
    from core.lineio import registry

    monkeypatch.setitem(registry.KINDS, "loop", "tests.lineio_gui_fakes")
    fakes.BUILT.clear()
    fakes.ensure_config_module()
    yield
    fakes.BUILT.clear()


def hub_factory():
    try:
        from core.lineio.hub import LineInterface
    except ImportError:
        return lambda config, context: fakes.FakeHub(config, context=context)
    return lambda config, context: LineInterface(config, context=context)


@pytest.fixture
def control(qtbot, tmp_path, loop_kind):
    from app.workers.line_control import LineControl

    (tmp_path / "line_io.toml").write_text(TOML)
    c = LineControl(tmp_path, hub_factory=hub_factory())
    c.start().result(10)
    assert c.error == "" and c.hub is not None
    yield c
    assert c.shutdown()


@pytest.fixture
def dialog(qtbot, control):
    d = LineIoDialog(control)
    qtbot.addWidget(d)
    d.show()
    yield d
    d.close()


def _cells(table, row):
    return [table.item(row, c).text() for c in range(table.columnCount())]


def _column(table, col):
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_the_page_shows_each_links_state_and_a_received_input(qtbot, control, dialog):
    plc, mes = fakes.BUILT[-2:]
    qtbot.waitUntil(lambda: dialog.live.links.rowCount() == 2, timeout=5000)
    assert _cells(dialog.live.links, 0)[:2] == ["● connected", "plc"]
    assert _cells(dialog.live.links, 1)[:2] == ["● connecting", "mes"]
    assert "mes" in dialog.live.counts.text()  # the alarm names the link not connected
    with qtbot.waitSignal(control.command, timeout=5000) as got:
        plc.send_from_thread(LineInput.RECIPE, 2).join(5)
    assert got.args[0].kind == LineInput.RECIPE and got.args[0].value == 2
    qtbot.waitUntil(lambda: dialog.live.inputs.rowCount() >= 1, timeout=5000)
    assert _cells(dialog.live.inputs, 0)[1:] == ["plc", "RECIPE", "2"]
    assert _column(dialog.live.outputs, 0) == [o.name for o in LineOutput]
    mes.state = "down"
    qtbot.waitUntil(lambda: _cells(dialog.live.links, 1)[0] == "● down", timeout=5000)


def test_save_refuses_a_bad_deadline_and_writes_nothing(qtbot, control, dialog, tmp_path):
    before = (tmp_path / "line_io.toml").read_bytes()
    cfg = dialog.config
    for bad in ("700000", "soon", "-1"):
        cfg.mapping.fields["deadline_ms"].setText(bad)
        cfg.save_button.click()
        qtbot.waitUntil(lambda: cfg.save_button.isEnabled() and "deadline_ms" in cfg.message.text(), timeout=10000)
        assert "border" in cfg.mapping.fields["deadline_ms"].styleSheet()  # the field is marked
        assert (tmp_path / "line_io.toml").read_bytes() == before
    cfg.transports.list.setCurrentRow(0)
    cfg.transports.options.item(0, 0).setText("colour")  # an option its kind does not take
    cfg.mapping.fields["deadline_ms"].setText("250")
    cfg.save_button.click()
    qtbot.waitUntil(lambda: cfg.save_button.isEnabled() and "colour" in cfg.message.text(), timeout=10000)
    assert (tmp_path / "line_io.toml").read_bytes() == before


def test_apply_saves_and_restarts_the_line_interface(qtbot, control, dialog, tmp_path):
    from core.lineio.config import load_line_config

    old = control.hub
    cfg = dialog.config
    cfg.mapping.fields["deadline_ms"].setText("250")
    cfg.mapping.review_as.setCurrentIndex(cfg.mapping.review_as.findData("review"))
    cfg.transports.list.item(1).setCheckState(cfg.transports.list.item(0).checkState().Unchecked)
    cfg.apply_button.click()
    qtbot.waitUntil(lambda: cfg.save_button.isEnabled() and "Saved" in cfg.message.text(), timeout=10000)
    saved = load_line_config(tmp_path)
    assert (saved.mapping.deadline_ms, saved.mapping.review_as) == (250, "review")
    assert [t.enabled for t in saved.transports] == [True, False]
    assert control.hub is not old and [s.name for s in control.statuses()] == ["plc"]
    qtbot.waitUntil(lambda: dialog.live.links.rowCount() == 1, timeout=5000)


def test_forcing_asks_once_calls_the_hub_and_is_logged(qtbot, control, dialog, caplog):
    plc, mes = fakes.BUILT[-2:]
    page = dialog.commission
    asked = []
    page.confirm = lambda: asked.append(1) or len(asked) > 1  # declined the first time
    qtbot.waitUntil(lambda: page.link.count() == 3, timeout=5000)
    page.output.setCurrentText("NG")
    page.force_button.click()
    assert "Nothing forced" in page.message.text() and not plc.forced
    page.value.setText("maybe")
    page.force_button.click()
    assert "NG takes on / off" in page.message.text() and len(asked) == 1
    page.value.setText("on")
    page.link.setCurrentText("plc")
    page.force_button.click()
    qtbot.waitUntil(lambda: plc.forced == [(LineOutput.NG, True)], timeout=5000)
    qtbot.waitUntil(lambda: page.log.count() == 1, timeout=5000)
    assert "forced NG = True on plc" in page.log.item(0).text() and not mes.forced
    page.output.setCurrentText("SEQ")
    page.value.setText("42")
    page.link.setCurrentText("All links")
    page.force_button.click()  # confirmed once: not asked again
    qtbot.waitUntil(lambda: (LineOutput.SEQ, 42) in mes.forced and (LineOutput.SEQ, 42) in plc.forced, timeout=5000)
    assert len(asked) == 2
    qtbot.waitUntil(lambda: page.log.count() == 2, timeout=5000)


def test_the_test_buttons_send_a_fake_ok_and_ng_to_every_link(qtbot, control, dialog):
    plc, mes = fakes.BUILT[-2:]
    page = dialog.commission
    page.test_ok.click()
    page.test_ng.click()
    for link in (plc, mes):
        qtbot.waitUntil(lambda link=link: [r.decision for r in link.results] == ["OK", "NG"], timeout=5000)
        assert all(r.test for r in link.results)
    qtbot.waitUntil(lambda: page.log.count() == 2, timeout=5000)
    assert "test NG sent" in page.log.item(0).text()
    qtbot.waitUntil(lambda: "test 2" in dialog.live.counts.text(), timeout=5000)
