"""Issue 13 item 18, the window's side: saving thresholds from the live window is a locked
read-modify-write, so it cannot undo what another program changed in the same recipe."""

from core.store import RecipeStore, Thresholds


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
    from core.store import RecipeError, recipes

    data = tmp_path / "data"
    RecipeStore(data).create("bottle", thresholds=Thresholds(0.3, 0.6, 0.5))
    c = SessionController(data)
    monkeypatch.setattr(recipes, "LOCK_TIMEOUT_S", 0)  # busy at once instead of waiting
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
