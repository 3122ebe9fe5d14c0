"""Issue 13 item 18, the window's side: saving thresholds from the live window is a locked
read-modify-write, so it cannot undo what another program changed in the same recipe."""

from core.recipe import Thresholds
from core.store import RecipeStore


class _Session:
    def __init__(self, recipe) -> None:
        self.recipe = recipe
        self.applied = []

    def set_thresholds(self, t) -> None:
        self.applied.append(t)


def test_applying_thresholds_keeps_another_programs_change(qtbot, tmp_path, monkeypatch):
    """Another program tries to change the recipe right after the window has read it: it
    must either wait for the window's lock (and write after it) or be written over; the
    lock attempt is non-blocking, so nothing here depends on timing."""
    import threading

    from app.workers.session_controller import SessionController
    from core.recipe import RecipeError
    from core.store import recipe_store

    data = tmp_path / "data"
    RecipeStore(data).create("bottle", thresholds=Thresholds(0.3, 0.6, 0.5))
    c = SessionController(data)
    monkeypatch.setattr(recipe_store, "LOCK_TIMEOUT_S", 0)  # busy at once instead of waiting
    other = RecipeStore(data)  # another program (e.g. `lineinspect recipe ...`)
    change = lambda r: setattr(r.camera, "source", "genicam:42")  # noqa: E731
    outcome = []

    def other_program() -> None:
        try:
            other.update("bottle", change)
            outcome.append("wrote")
        except RecipeError as exc:
            outcome.append("busy" if "busy" in str(exc) else str(exc))

    real_load = c.recipes._load

    def load_then_other_program_tries(name):
        recipe = real_load(name)
        if not outcome:  # once, right after the window's first read
            t = threading.Thread(target=other_program)
            t.start()
            t.join()
        return recipe

    try:
        c.session = _Session(c.recipes.get("bottle", check_model=False))
        monkeypatch.setattr(c.recipes, "_load", load_then_other_program_tries)
        c._do_apply(Thresholds(0.2, 0.7, 0.4))
        if outcome == ["busy"]:  # it waited for the window's lock: now it writes
            other.update("bottle", change)
        saved = other.get("bottle")
        assert saved.thresholds == Thresholds(0.2, 0.7, 0.4)
        assert saved.camera.source == "genicam:42"  # not undone by the window's save
        assert c.session.applied == [Thresholds(0.2, 0.7, 0.4)]
    finally:
        c.session = None
        c.shutdown()


def test_deploying_a_model_keeps_another_programs_change(qtbot, tmp_path):
    """The wizard read the recipe long before Deploy; a change another program made to it
    meanwhile must survive the deploy, which reads and writes the recipe once, under its lock
    (and another program's later change keeps what the deploy wrote)."""
    from app.wizard.context import WizardContext
    from app.wizard.deploy_page import deploy
    from core.recipe import Roi
    from tests.test_store_versions import make_bundle

    store = RecipeStore(tmp_path / "data")
    store.create("bottle", source="sim", roi=Roi(0, 0, 32, 32))
    other = RecipeStore(tmp_path / "data")  # another program
    bundle = make_bundle(tmp_path / "new.limodel")
    ctx = WizardContext(store, source="sim", recipe_name="bottle", is_new=False,
                        roi=Roi(0, 0, 32, 32),
                        result={"bundle": str(bundle), "meta": {"preset": "tiny"}},
                        validation={"thresholds": {"ok_limit": 0.25, "ng_limit": 0.5,
                                                   "pixel": 0.45}})
    other.update("bottle", lambda r: r.camera.settings.__setitem__("ExposureTime", 5000))
    version = deploy(ctx, override_reason="checked by hand on the line")
    other.update("bottle", lambda r: r.camera.settings.__setitem__("Gain", 2))
    saved = other.get("bottle")
    assert saved.active_version == version == 1
    assert saved.thresholds == Thresholds(0.25, 0.5, 0.45)
    assert saved.training.preset == "tiny"
    assert saved.camera.settings == {"ExposureTime": 5000, "Gain": 2}  # neither undone
