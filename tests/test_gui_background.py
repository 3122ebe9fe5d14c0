"""The app's one worker idiom: work off the GUI thread, outcomes delivered on the GUI thread."""

import threading

import pytest

from app.workers.background import Background, gui_callback

pytestmark = pytest.mark.gui


def test_work_runs_off_the_gui_thread_in_order_and_outcomes_arrive_on_it(qtbot):
    bg = Background("test-bg")
    gui = threading.current_thread()
    ran_on, outcomes, delivered_on = [], [], []

    def work(n):
        ran_on.append(threading.current_thread())
        return n * 10

    def done(result, error):
        delivered_on.append(threading.current_thread())
        outcomes.append((result, error))

    futures = [bg.submit(work, n, done=done) for n in (1, 2, 3)]
    assert bg.busy
    assert [f.result(5) for f in futures] == [10, 20, 30]
    qtbot.waitUntil(lambda: len(outcomes) == 3, timeout=5000)
    assert outcomes == [(10, None), (20, None), (30, None)]
    assert all(t is not gui and t.name == "test-bg" for t in ran_on)
    assert all(t is gui for t in delivered_on)
    assert not bg.busy
    bg.shutdown()


def test_an_error_reaches_done_as_a_message_and_the_future_raises(qtbot):
    bg = Background("test-bg")
    outcomes = []

    def fail():
        raise ValueError("the disk is full")

    future = bg.submit(fail, done=lambda r, e: outcomes.append((r, e)))
    with pytest.raises(ValueError, match="disk is full"):
        future.result(5)
    qtbot.waitUntil(lambda: outcomes == [(None, "the disk is full")], timeout=5000)
    bg.submit(lambda: "still works", done=lambda r, e: outcomes.append((r, e)))
    qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=5000)
    assert outcomes[1] == ("still works", None)
    bg.shutdown()


def test_shutdown_lets_the_running_job_finish_cancels_the_rest_and_ends_the_thread(qtbot):
    bg = Background("test-bg-shutdown")
    release = threading.Event()
    started = threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "finished"

    running = bg.submit(slow)
    queued = bg.submit(lambda: "never")
    assert started.wait(5)
    threading.Timer(0.2, release.set).start()
    bg.shutdown(wait=True)
    assert running.result(0) == "finished" and queued.cancelled()
    assert not any(t.name == "test-bg-shutdown" for t in threading.enumerate())
    qtbot.waitUntil(lambda: not bg.busy, timeout=5000)  # the finished job's outcome was delivered
    with pytest.raises(RuntimeError, match="shut down"):
        bg.submit(lambda: None)


def test_the_thread_ends_when_idle_and_starts_again_for_new_work(qtbot):
    bg = Background("test-bg-idle")
    bg.submit(lambda: 1).result(5)
    qtbot.waitUntil(lambda: not any(t.name == "test-bg-idle" for t in threading.enumerate()), timeout=5000)
    assert bg.submit(lambda: 2).result(5) == 2
    bg.shutdown()


def test_gui_callback_called_from_another_thread_runs_on_the_gui_thread_in_order(qtbot):
    from PySide6.QtCore import QObject

    owner = QObject()
    got = []
    call = gui_callback(owner, lambda *args: got.append((threading.current_thread(), args)))
    t = threading.Thread(target=lambda: [call(i, "x") for i in range(5)])
    t.start()
    t.join()
    qtbot.waitUntil(lambda: len(got) == 5, timeout=5000)
    assert [args for _, args in got] == [(i, "x") for i in range(5)]
    assert all(thread is threading.current_thread() for thread, _ in got)
