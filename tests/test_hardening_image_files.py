"""Issue 13 item 13: pixel bombs and decoder errors are skipped and reported, everywhere
(the loader, predict, eval, training import, folder replay), and never abort a batch."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from core.camera.errors import CameraError
from core.camera.replay import FolderReplaySource
from core.io.image_header import header_size
from core.io.images import ImageReadError, load_images, read_image, write_image_atomic


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(w: int = 65535, h: int = 65535) -> bytes:
    """57 bytes claiming a w x h 8-bit gray PNG."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", b"")
            + _chunk(b"IEND", b""))


def jpeg_bomb(tmp_path: Path) -> bytes:
    """A real small JPEG whose frame header (SOF0) is patched to claim 65000 x 65000."""
    write_image_atomic(tmp_path / "_small.jpg", np.full((16, 16, 3), 90, np.uint8))
    data = bytearray((tmp_path / "_small.jpg").read_bytes())
    sof = data.find(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
    return bytes(data)


def _good(folder: Path, name: str, value: int = 90) -> Path:
    path = folder / name
    write_image_atomic(path, np.full((20, 30, 3), value, np.uint8))
    return path


# ------------------------------------------------------------------ the loader


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".bmp", ".tif"])
@pytest.mark.parametrize("shape", [(20, 30), (7, 5, 3)])
def test_header_size_matches_real_files(tmp_path: Path, suffix: str, shape) -> None:
    path = tmp_path / f"a{suffix}"
    write_image_atomic(path, np.zeros(shape, np.uint8))
    assert header_size(path.read_bytes()) == (shape[1], shape[0])


def test_png_bomb_is_rejected_before_decoding(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_bomb())
    assert bomb.stat().st_size == 57
    with pytest.raises(ImageReadError, match=r"bomb\.png.*65535 x 65535.*LINEINSPECTOR_MAX_PIXELS"):
        read_image(bomb)


def test_jpeg_with_huge_frame_header_is_rejected(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.jpg"
    bomb.write_bytes(jpeg_bomb(tmp_path))
    with pytest.raises(ImageReadError, match=r"bomb\.jpg.*65000 x 65000"):
        read_image(bomb)


def test_limit_is_checked_on_the_header_for_every_format(tmp_path: Path, monkeypatch) -> None:
    decoded = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda *a: decoded.append(1) or real(*a))
    monkeypatch.setenv("LINEINSPECTOR_MAX_PIXELS", "100")
    for suffix in (".png", ".jpg", ".bmp", ".tif"):
        path = _good(tmp_path, f"big{suffix}")  # 600 pixels > 100
        with pytest.raises(ImageReadError, match=r"30 x 20 = 600 pixels.*limit of 100"):
            read_image(path)
    assert decoded == []  # nothing was decoded to find out
    monkeypatch.setenv("LINEINSPECTOR_MAX_PIXELS", "600")
    assert read_image(tmp_path / "big.bmp").shape == (20, 30, 3)
    assert read_image(tmp_path / "big.png", max_pixels=1000).shape == (20, 30, 3)
    with pytest.raises(ImageReadError, match="limit of 599"):
        read_image(tmp_path / "big.png", max_pixels=599)


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "1e9", "99999999999", "1.5"])
def test_bad_pixel_limit_is_a_clear_error(tmp_path: Path, monkeypatch, value: str) -> None:
    path = _good(tmp_path, "a.png")
    monkeypatch.setenv("LINEINSPECTOR_MAX_PIXELS", value)
    with pytest.raises(ValueError, match="LINEINSPECTOR_MAX_PIXELS must be a whole number") as info:
        read_image(path)
    assert not isinstance(info.value, ImageReadError)  # a setting, not a bad file


@pytest.mark.parametrize("value", [0, -1, float("nan"), 2**40, True, "5"])
def test_bad_pixel_limit_argument_is_refused(tmp_path: Path, value) -> None:
    with pytest.raises(ValueError, match="max_pixels"):
        read_image(_good(tmp_path, "a.png"), max_pixels=value)


def test_any_decoder_error_is_an_image_read_error(tmp_path: Path, monkeypatch) -> None:
    path = _good(tmp_path, "a.png")

    def boom(*_a, **_k):
        raise cv2.error("decoder blew up")

    monkeypatch.setattr(cv2, "imdecode", boom)
    with pytest.raises(ImageReadError, match=r"a\.png.*decoder"):
        read_image(path)


def test_damaged_headers_are_reported_not_decoded(tmp_path: Path) -> None:
    cases = {
        "noihdr.png": b"\x89PNG\r\n\x1a\n" + _chunk(b"IEND", b""),
        "zero.png": png_bomb(0, 10),
        "nosof.jpg": b"\xff\xd8\xff\xda\x00\x02\xff\xd9",
        "short.bmp": b"BM" + b"\x00" * 10,
        "noifd.tif": b"II*\x00\x08\x00\x00\x00\x00\x00",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    loaded, skipped = load_images(sorted(tmp_path / n for n in cases))
    assert loaded == []
    assert {p.name for p, _ in skipped} == set(cases)
    assert all("corrupt" in why for _, why in skipped)


# ------------------------------------------------------------------ predict, eval, import


class _Fake:
    thresholds = {"ok_limit": 0.3, "ng_limit": 0.6, "pixel": 0.5}
    image_size = (20, 30)
    meta: dict = {}

    def predict(self, image):
        return SimpleNamespace(score=0.1, anomaly_map=np.zeros(image.shape[:2], np.float32))

    def preprocess(self, image):
        return image

    def predict_batch(self, images, batch_size):
        return [SimpleNamespace(score=float(im.mean()) / 255,
                                anomaly_map=np.full((20, 30), im.mean() / 255, np.float32))
                for im in images]


def test_predict_batch_with_bombs_still_writes_the_csv(tmp_path: Path, monkeypatch, capsys) -> None:
    from core.cli import predict_cmd
    from core.cli.main import main

    folder = tmp_path / "in"
    folder.mkdir()
    _good(folder, "a.png", 9)
    (folder / "b_bomb.png").write_bytes(png_bomb())
    (folder / "c_bomb.jpg").write_bytes(jpeg_bomb(tmp_path))
    _good(folder, "d.png", 20)
    monkeypatch.setattr(predict_cmd, "load_for_cli", lambda args: _Fake())
    out = tmp_path / "out"
    assert main(["predict", "m.limodel", str(folder), "--out", str(out)]) == 0
    rows = (out / "scores.csv").read_text().splitlines()[1:]
    assert [Path(r.split(",")[0]).name for r in rows] == ["a.png", "d.png"]
    printed = capsys.readouterr().out
    assert "skipped" in printed and "b_bomb.png" in printed and "c_bomb.jpg" in printed


def test_eval_skips_a_sample_whose_mask_is_a_bomb(tmp_path: Path) -> None:
    from core.evaluation.evaluate import evaluate

    root = tmp_path / "data"
    for sub in ("test/good", "test/scratch", "ground_truth/scratch"):
        (root / sub).mkdir(parents=True)
    for i in range(2):
        _good(root / "test/good", f"{i}.png", 90)
        _good(root / "test/scratch", f"{i}.png", 200)
    write_image_atomic(root / "ground_truth/scratch/0_mask.png", np.full((20, 30), 255, np.uint8))
    (root / "ground_truth/scratch/1_mask.png").write_bytes(png_bomb())
    report = evaluate(_Fake(), root)
    assert report.metrics["images"] == 3
    assert [(p.name, "65535 x 65535" in why) for p, why in report.skipped] == [("1_mask.png", True)]


def test_training_import_skips_a_bomb(tmp_path: Path) -> None:
    from core.training.collect import SampleFolder

    src = tmp_path / "src"
    src.mkdir()
    _good(src, "a.png")
    (src / "b.png").write_bytes(png_bomb())
    added, skipped = SampleFolder(tmp_path / "samples").import_folder(src)
    assert len(added) == 1
    assert [p.name for p, _ in skipped] == ["b.png"] and "65535 x 65535" in skipped[0][1]


# ------------------------------------------------------------------ folder replay


def test_replay_skips_a_bomb_and_delivers_the_images_after_it(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a_bomb.png").write_bytes(png_bomb())
    _good(folder, "b.png", 40)
    _good(folder, "c.png", 80)
    with FolderReplaySource(folder, fps=0) as source:
        source.start()
        frames = [source.read(1.0) for _ in range(4)]
        notices = source.drain_notices()
    assert [int(f.image[0, 0, 0]) for f in frames] == [40, 80, 40, 80]
    assert sum("a_bomb.png" in n.message for n in notices) == 1  # reported once, not every pass


def test_replay_retries_a_file_that_was_still_being_copied(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    _good(folder, "a.png", 40)
    full = _good(tmp_path, "b_full.png", 80).read_bytes()
    partial = folder / "b.png"
    partial.write_bytes(full[: len(full) // 2])  # the copy has not finished yet
    with FolderReplaySource(folder, fps=0) as source:
        source.start()
        first = [int(source.read(1.0).image[0, 0, 0]) for _ in range(2)]
        partial.write_bytes(full)  # the copy finishes: size (and mtime) change
        later = [int(source.read(1.0).image[0, 0, 0]) for _ in range(2)]
        notices = source.drain_notices()
    assert first == [40, 40]
    assert later == [80, 40]
    assert sum("b.png" in n.message for n in notices) == 1


def test_replay_retries_an_unchanged_bad_file_after_a_while(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    _good(folder, "a.png", 40)
    (folder / "b.png").write_bytes(b"junk")
    clock = [0.0]
    source = FolderReplaySource(folder, fps=0, retry_after_s=30.0, clock=lambda: clock[0])
    tried = []
    real = source._read_file
    source._read_file = lambda p: tried.append(p.name) or real(p)
    with source:
        source.start()
        for _ in range(3):
            source.read(1.0)
        assert tried.count("b.png") == 1  # not re-read every pass while unchanged
        clock[0] = 31.0
        for _ in range(2):
            source.read(1.0)
        assert tried.count("b.png") == 2  # tried again after retry_after_s


def test_replay_of_only_bad_files_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "imgs"
    folder.mkdir()
    (folder / "a_bomb.png").write_bytes(png_bomb())
    (folder / "b.png").write_bytes(b"junk")
    source = FolderReplaySource(folder, fps=0)
    source.open()
    with pytest.raises(CameraError, match="none of its images can be read"):
        source._produce(0)
    source.close()


def test_cli_refuses_a_bad_pixel_limit_at_startup(tmp_path: Path, monkeypatch, capsys) -> None:
    from core.cli.main import main
    from core.settings_env import SettingError, check_environment

    monkeypatch.setenv("LINEINSPECTOR_MAX_PIXELS", "nan")
    with pytest.raises(SettingError, match="LINEINSPECTOR_MAX_PIXELS"):
        check_environment()
    assert main(["camera", "list", "--no-bundled"]) == 2  # before any command runs
    err = capsys.readouterr().err
    assert err.startswith("error: LINEINSPECTOR_MAX_PIXELS must be a whole number")
    assert err.count("\n") == 1


def test_training_textures_skip_a_bomb_without_decoding_it(tmp_path: Path, monkeypatch) -> None:
    from core.synth.textures import FolderTextures

    folder = tmp_path / "tex"
    folder.mkdir()
    (folder / "a_bomb.png").write_bytes(png_bomb(20000, 20000))
    write_image_atomic(folder / "b.png", np.full((64, 64, 3), 77, np.uint8))
    decoded = []
    real = cv2.imdecode
    monkeypatch.setattr(cv2, "imdecode", lambda buf, flags: decoded.append(len(buf)) or real(buf, flags))
    textures = FolderTextures(folder)
    rng = np.random.default_rng(0)
    picks = [textures.sample((8, 8), rng) for _ in range(6)]
    assert all(int(p[0, 0, 0]) == 77 for p in picks)
    assert [p.name for p, _ in textures.skipped] == ["a_bomb.png"]
    assert "20000 x 20000" in textures.skipped[0][1]
    assert len(decoded) == 1  # only the good texture was decoded


@pytest.mark.parametrize("order", ["<", ">"])
def test_bigtiff_header_size_is_read(order: str) -> None:
    magic = b"II+\x00" if order == "<" else b"MM\x00+"
    head = magic + struct.pack(order + "HHQ", 8, 0, 16)
    entries = [struct.pack(order + "HHQQ", 256, 16, 1, 70000),  # width, LONG8
               struct.pack(order + "HHQ", 257, 3, 1) + struct.pack(order + "H", 50000) + b"\0" * 6]
    data = head + struct.pack(order + "Q", len(entries)) + b"".join(entries)
    assert header_size(data) == (70000, 50000)
