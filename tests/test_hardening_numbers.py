"""Issue 13 item 19: every number a user can type (environment variables, CLI flags, ``sim:``
options, fault parameters) is checked, with a one-line error naming it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.cli.main import main
from core.settings_env import SettingError, check_environment, check_threads, max_threads

BAD_COUNTS = ["99999", "0", "-2", "nan", "inf", "2.5", "lots", "1e3"]


# ------------------------------------------------------------------ threads


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_bad_threads_env_is_refused_before_torch_sees_it(value: str, monkeypatch) -> None:
    import torch

    from core.device import configure_cpu_threads

    calls: list[int] = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)  # 99999 would segfault
    monkeypatch.setenv("LINEINSPECTOR_THREADS", value)
    with pytest.raises(SettingError, match=r"LINEINSPECTOR_THREADS must be a whole number from 1 to \d+"):
        configure_cpu_threads()
    assert calls == []
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "1")
    assert configure_cpu_threads() == 1 and calls == [1]


@pytest.mark.parametrize("value", BAD_COUNTS)
def test_bad_threads_env_is_refused_for_onnx_runtime_and_openvino(value: str, monkeypatch) -> None:
    from core.inference.backends.onnx_backend import default_threads

    monkeypatch.setenv("LINEINSPECTOR_THREADS", value)
    with pytest.raises(SettingError, match="LINEINSPECTOR_THREADS"):
        default_threads()
    monkeypatch.delenv("LINEINSPECTOR_THREADS")
    assert default_threads() >= 1 and default_threads(3) == 3


@pytest.mark.parametrize("threads", [99999, -1, 2.5, True, float("nan")])
def test_bad_thread_argument_is_refused(threads, monkeypatch) -> None:
    import torch

    from core.device import configure_cpu_threads
    from core.inference.backends.onnx_backend import default_threads

    monkeypatch.setattr(torch, "set_num_threads", lambda n: pytest.fail(f"set_num_threads({n})"))
    with pytest.raises(SettingError, match="threads must be a whole number"):
        configure_cpu_threads(threads)
    with pytest.raises(SettingError, match="threads must be a whole number"):
        default_threads(threads)


def test_thread_cap_is_sane() -> None:
    import os

    assert max_threads() >= (os.cpu_count() or 1) and max_threads() >= 256
    assert check_threads(max_threads()) == max_threads()
    with pytest.raises(SettingError):
        check_threads(max_threads() + 1)


@pytest.mark.parametrize("name", ["LINEINSPECTOR_THREADS", "LINEINSPECTOR_FRAMES_IN_FLIGHT"])
def test_live_session_counts_are_refused_not_ignored(name: str, monkeypatch) -> None:
    from core.inspection import session

    monkeypatch.setenv(name, "abc")  # used to be ignored silently
    with pytest.raises(SettingError, match=name):
        session.live_cpu_threads()
    monkeypatch.setenv(name, "99999")
    with pytest.raises(SettingError, match=name):
        session.live_cpu_threads()


@pytest.mark.parametrize("name", ["LINEINSPECTOR_THREADS", "LINEINSPECTOR_FRAMES_IN_FLIGHT"])
def test_cli_refuses_a_bad_environment_at_startup(name: str, monkeypatch, capsys) -> None:
    monkeypatch.setenv(name, "99999")
    assert main(["camera", "list", "--no-bundled"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {name} must be a whole number") and err.count("\n") == 1
    monkeypatch.setenv(name, "")  # empty means unset
    check_environment()


def test_a_mistyped_precision_is_refused_not_ignored(monkeypatch, capsys) -> None:
    from core.settings_env import env_precision

    for value, want in (("", "auto"), ("  ", "auto"), ("auto", "auto"), ("FP32", "fp32"), (" fp32 ", "fp32")):
        monkeypatch.setenv("LINEINSPECTOR_PRECISION", value)
        assert env_precision() == want
    monkeypatch.delenv("LINEINSPECTOR_PRECISION")
    assert env_precision() == "auto"
    monkeypatch.setenv("LINEINSPECTOR_PRECISION", "fp23")  # was read as "use int8", silently
    with pytest.raises(SettingError, match="LINEINSPECTOR_PRECISION must be auto or fp32, got 'fp23'"):
        check_environment()
    assert main(["camera", "list", "--no-bundled"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: LINEINSPECTOR_PRECISION must be") and err.count("\n") == 1


def test_window_refuses_a_bad_environment_before_opening(monkeypatch, capsys) -> None:
    import app.main as app_main

    def no_window(*_a, **_k):
        raise AssertionError("a window was opened despite LINEINSPECTOR_THREADS=99999")

    monkeypatch.setattr(app_main, "show_splash", no_window)
    monkeypatch.setattr(app_main, "create_window", no_window)
    monkeypatch.setenv("LINEINSPECTOR_THREADS", "99999")
    assert app_main.main(["--no-start"]) == 2
    assert "error: LINEINSPECTOR_THREADS must be a whole number" in capsys.readouterr().err


# ------------------------------------------------------------------ camera grab


def _one_image_folder(tmp_path: Path) -> Path:
    from core.io.images import write_image_atomic

    folder = tmp_path / "imgs"
    write_image_atomic(folder / "a.png", np.full((16, 16, 3), 50, np.uint8))
    return folder


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-1", "1e9"])
def test_grab_timeout_must_be_a_sane_number(value: str, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    code = main(["camera", "grab", "sim:fps=0,width=32,height=32", "-n", "1", "--out", str(out),
                 f"--timeout={value}", "--no-bundled"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --timeout must be") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("value", [str(10**12), "0", "-3"])
def test_grab_count_must_be_a_sane_number(value: str, tmp_path: Path, capsys) -> None:
    folder = _one_image_folder(tmp_path)  # runs out at once: nothing waits if the check is missing
    code = main(["camera", "grab", f"{folder}?loop=0,fps=0", f"--count={value}",
                 "--out", str(tmp_path / "out"), "--no-bundled"])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: --count must be"), err


# ------------------------------------------------------------------ sim: options


@pytest.mark.parametrize("option", [
    "noise=nan", "noise=inf", "noise=-1", "noise=1e6",
    "jitter=nan", "jitter=5", "rotation=nan", "rotation=1e9", "lighting=nan", "lighting=7",
    "exposure_us=nan", "exposure_us=0", "exposure_us=1e12", "gain_db=nan", "gain_db=-3", "gain_db=99",
    "fps=nan", "fps=inf", "seed=-1", f"seed={2**64}", f"belt_speed={10**12}", "defect_rate=nan",
])
def test_sim_options_must_be_sane_numbers(option: str) -> None:
    from core.camera import SourceSpecError, open_source

    key = option.split("=")[0]
    with pytest.raises((SourceSpecError, ValueError), match=rf"sim {key}"):
        open_source(f"sim:{option}")


def test_sim_defaults_and_ordinary_options_still_open() -> None:
    from core.camera import open_source

    source = open_source("sim:seed=3,fps=0,noise=0,jitter=0.1,rotation=30,lighting=0.2,"
                         "exposure_us=2000,gain_db=6,belt_speed=-4,width=64,height=48")
    image, _ = source.render(0)
    assert image.shape == (48, 64, 3)


# ------------------------------------------------------------------ faults


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"seconds": float("nan")}, "seconds"), ({"seconds": float("inf")}, "seconds"),
    ({"seconds": -1.0}, "seconds"), ({"seconds": 1e9}, "seconds"),
    ({"count": 10**12}, "count"), ({"count": -1}, "count"), ({"count": 2.5}, "count"),
])
def test_fault_parameters_must_be_sane_numbers(kwargs: dict, message: str) -> None:
    from core.camera.faults import FaultInjector

    faults = FaultInjector()
    kind = "incomplete" if "count" in kwargs else "stall"
    with pytest.raises(ValueError, match=rf"fault '{kind}': {message} must be"):
        faults.inject(kind, **kwargs)
    assert faults.stalled_for() == 0 and not faults.take_incomplete()  # nothing half-applied


# ------------------------------------------------------------------ results and export flags


@pytest.mark.parametrize("value", ["-5", "0", str(10**20)])
def test_results_last_n_must_be_sane(value: str, tmp_path: Path, capsys) -> None:
    from core.store.results import ResultsStore

    ResultsStore(tmp_path).close()  # a database exists: the query would run
    code = main(["results", "last", f"-n={value}", "--data-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: -n must be a whole number from 1 to"), err


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--batch", str(10**9), "--batch must be"), ("--opset", "99999", "opset 99999"),
    ("--opset", "5", "opset 5"), ("--calib-limit", "-1", "--calib-limit must be"),
])
def test_export_numbers_are_checked_before_exporting(flag, value, message, tmp_path: Path, capsys) -> None:
    from tests.inspection_fakes import make_tiny_bundle

    bundle = make_tiny_bundle(tmp_path / "m.limodel")
    extra = ["--int8", "--calib", str(_one_image_folder(tmp_path))] if flag == "--calib-limit" else []
    code = main(["export", str(bundle), "--out", str(tmp_path / "m.onnx"), f"{flag}={value}", *extra])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and message in err and err.count("\n") == 1, err
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize(("flag", "values", "message"), [
    ("--image-size", ["0", "0"], "--image-size"), ("--image-size", ["-32", "64"], "--image-size"),
    ("--image-size", ["32000", "32000"], "--image-size"), ("--steps", [str(10**12)], "--steps"),
])
def test_train_sizes_and_steps_are_checked(flag, values, message, tmp_path: Path, capsys) -> None:
    data = tmp_path / "empty"  # no images: a missing check ends in a different error, not training
    data.mkdir()
    code = main(["train", str(data), "--out", str(tmp_path / "m.limodel"), flag, *values])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith(f"error: {message} must be"), err
