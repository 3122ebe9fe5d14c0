"""The wizard's Deploy step runs off the GUI thread: the button is off and "Deploying…" shown
meanwhile, the outcome (the new version, or why not) shown when it is done."""

import threading

import pytest

from app.wizard import deploy_page
from app.wizard.context import WizardContext
from app.wizard.deploy_page import DeployPage
from core.recipe import Roi
from core.store import RecipeStore
from tests.inspection_fakes import make_tiny_bundle

pytestmark = pytest.mark.gui
SEPARATES = {"auroc": 0.9, "spread": 0.2, "images": 4}


@pytest.fixture
def page(qtbot, tmp_path):
    bundle = make_tiny_bundle(tmp_path / "run" / "model.limodel")
    ctx = WizardContext(RecipeStore(tmp_path / "data"), source="sim", recipe_name="bracket",
                        roi=Roi(0, 0, 64, 64), preset="tiny",
                        result={"bundle": str(bundle), "meta": {"training": {"separability": SEPARATES}}},
                        validation={"thresholds": {"ok_limit": 0.2, "ng_limit": 0.4, "pixel": 0.5}})
    deployed = []
    p = DeployPage(ctx, lambda name, version: deployed.append((name, version)))
    p.deployed = deployed
    qtbot.addWidget(p)
    p.initializePage()
    return p


def _held(monkeypatch):
    """Make the page's deploy wait for ``release`` (on the worker thread), then run for real."""
    release, threads = threading.Event(), []
    real = deploy_page.deploy

    def held(ctx, *reasons):
        threads.append(threading.current_thread())
        assert release.wait(10)
        return real(ctx, *reasons)

    monkeypatch.setattr(deploy_page, "deploy", held)
    return release, threads


def test_deploy_runs_off_the_gui_thread_and_shows_the_new_version(qtbot, page, monkeypatch):
    release, threads = _held(monkeypatch)
    assert page.deploy_button.isEnabled()
    page.deploy()
    assert not page.deploy_button.isEnabled() and page.message.text() == "Deploying…"
    assert not page.isComplete() and page.deployed == []     # the GUI thread did not wait
    qtbot.waitUntil(lambda: bool(threads), timeout=5000)
    assert threads[0] is not threading.current_thread()
    release.set()
    qtbot.waitUntil(page.isComplete, timeout=10000)
    assert page.deployed == [("bracket", 1)] and page.ctx.deployed_version == 1
    assert "version 1 of 'bracket' is active" in page.message.text()
    assert not page.deploy_button.isEnabled()
    recipe = page.ctx.store.get("bracket")
    assert recipe.active_version == 1 and recipe.thresholds.ng_limit == pytest.approx(0.4)


def test_a_failed_deploy_says_why_and_gives_the_button_back(qtbot, page):
    page.ctx.result["bundle"] = str(page.ctx.store.data_dir / "missing.limodel")
    page.deploy()
    qtbot.waitUntil(lambda: "deploy failed" in page.message.text(), timeout=10000)
    assert "no trained model to deploy" in page.message.text()
    assert page.deploy_button.isEnabled() and page.reason.isEnabled()
    assert not page.isComplete() and page.deployed == [] and not page.ctx.store.exists("bracket")


def test_closing_the_wizard_waits_for_a_deploy_under_way(qtbot, page, monkeypatch):
    release, threads = _held(monkeypatch)
    page.deploy()
    qtbot.waitUntil(lambda: bool(threads), timeout=5000)
    threading.Timer(0.2, release.set).start()
    page.shutdown()                                   # returns once the deploy has run
    assert page.ctx.store.get("bracket").active_version == 1
    qtbot.waitUntil(lambda: page.deployed == [("bracket", 1)], timeout=5000)  # and it is still told
