"""Image reading/writing and the shared model preprocessing."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from core.io.images import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    list_images,
    load_images,
    read_image,
    to_model_input,
    write_image_atomic,
)

RNG = np.random.default_rng(1234)


def _colour(h: int = 48, w: int = 64) -> np.ndarray:
    return RNG.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


# ------------------------------------------------------------------ round trips


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tif", ".tiff"])
def test_lossless_round_trip_colour_and_gray(tmp_path: Path, suffix: str) -> None:
    colour = _colour()
    gray = colour[:, :, 1].copy()
    write_image_atomic(tmp_path / f"c{suffix}", colour)
    write_image_atomic(tmp_path / f"g{suffix}", gray)
    back_c = read_image(tmp_path / f"c{suffix}")
    back_g = read_image(tmp_path / f"g{suffix}")
    assert back_c.dtype == np.uint8 and back_c.shape == (48, 64, 3)
    np.testing.assert_array_equal(back_c, colour)  # BGR order preserved
    assert back_g.shape == (48, 64)
    np.testing.assert_array_equal(back_g, gray)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_uint16_round_trip(tmp_path: Path, suffix: str) -> None:
    img = RNG.integers(0, 65536, size=(20, 30), dtype=np.uint16)
    write_image_atomic(tmp_path / f"a{suffix}", img)
    back = read_image(tmp_path / f"a{suffix}")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, img)


def test_rewriting_an_image_is_atomic_and_keeps_its_permissions(tmp_path: Path) -> None:
    import os
    import stat

    path = tmp_path / "sub" / "a.png"
    write_image_atomic(path, _colour())
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o644  # readable by others, as core.atomic writes
        path.chmod(0o640)
    newer = _colour()
    write_image_atomic(path, newer)
    np.testing.assert_array_equal(read_image(path), newer)
    if os.name != "nt":
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(ValueError, match="encode"):
        write_image_atomic(path, np.zeros((4, 4, 7), np.uint8))  # seven channels: cannot encode
    np.testing.assert_array_equal(read_image(path), newer)
    assert sorted(q.name for q in path.parent.iterdir()) == ["a.png"]  # no temporary left behind


def test_jpeg_round_trip_is_close(tmp_path: Path) -> None:
    img = np.full((32, 32, 3), (10, 120, 240), dtype=np.uint8)
    write_image_atomic(tmp_path / "a.JPG", img)  # suffix case does not matter
    back = read_image(tmp_path / "a.JPG")
    assert back.shape == (32, 32, 3) and back.dtype == np.uint8
    assert np.abs(back.astype(int) - img).max() <= 3


def test_bgra_drops_alpha(tmp_path: Path) -> None:
    bgra = np.dstack([_colour(), np.full((48, 64), 7, np.uint8)])
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    back = read_image(tmp_path / "a.png")
    assert back.shape == (48, 64, 3)
    np.testing.assert_array_equal(back, bgra[:, :, :3])


def test_write_atomic_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.png"
    write_image_atomic(target, np.zeros((4, 4), np.uint8))
    write_image_atomic(target, np.full((4, 4), 9, np.uint8))
    assert read_image(target).max() == 9
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.png"]


def test_write_rejects_bad_suffix_and_keeps_old_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"out\.gif"):
        write_image_atomic(tmp_path / "out.gif", np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"out\.png"):
        write_image_atomic(tmp_path / "out.png", np.zeros((4, 4, 7), np.uint8))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ bad files


def _truncated(tmp_path: Path, suffix: str, keep: float) -> Path:
    good = tmp_path / f"good{suffix}"
    write_image_atomic(good, _colour(120, 160))
    data = good.read_bytes()
    bad = tmp_path / f"bad{suffix}"
    bad.write_bytes(data[: int(len(data) * keep)])
    return bad


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
@pytest.mark.parametrize("keep", [0.5, 0.98])
def test_truncated_files_raise(tmp_path: Path, suffix: str, keep: float) -> None:
    bad = _truncated(tmp_path, suffix, keep)
    with pytest.raises(ImageReadError, match="corrupt or truncated") as info:
        read_image(bad)
    assert str(bad) in str(info.value)


def test_png_missing_only_iend_raises(tmp_path: Path) -> None:
    good = tmp_path / "a.png"
    write_image_atomic(good, _colour())
    bad = tmp_path / "b.png"
    bad.write_bytes(good.read_bytes()[:-12])  # drop the IEND chunk exactly
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(bad)


def test_jpeg_with_trailing_bytes_after_end_marker_is_fine(tmp_path: Path) -> None:
    good = tmp_path / "a.jpg"
    write_image_atomic(good, _colour())
    padded = tmp_path / "b.jpg"
    padded.write_bytes(good.read_bytes() + b"\x00" * 16)
    assert read_image(padded).shape == (48, 64, 3)


def test_garbage_empty_missing_and_unsupported(tmp_path: Path) -> None:
    garbage = tmp_path / "noise.png"
    garbage.write_bytes(bytes(RNG.integers(0, 256, 500, dtype=np.uint8)))
    with pytest.raises(ImageReadError, match=r"noise\.png.*corrupt or truncated"):
        read_image(garbage)
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageReadError, match=r"empty\.jpg.*empty file"):
        read_image(empty)
    with pytest.raises(ImageReadError, match=r"missing\.png.*not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "doc.txt").write_text("hi")
    with pytest.raises(ImageReadError, match=r"doc\.txt.*unsupported format"):
        read_image(tmp_path / "doc.txt")
    assert issubclass(ImageReadError, ValueError)


def test_load_images_reports_skipped_with_reason(tmp_path: Path) -> None:
    write_image_atomic(tmp_path / "ok.png", _colour())
    (tmp_path / "bad.png").write_bytes(b"not an image")
    names = ["ok.png", "bad.png", "gone.png"]
    loaded, skipped = load_images([tmp_path / n for n in names])
    assert [p.name for p, _ in loaded] == ["ok.png"]
    assert loaded[0][1].shape == (48, 64, 3)
    assert [(p.name, reason) for p, reason in skipped] == [
        ("bad.png", "corrupt or truncated image data"),
        ("gone.png", "not found"),
    ]


# ------------------------------------------------------------------ listing


def test_list_images_sorted_filtered_recursive(tmp_path: Path) -> None:
    for name in ["b.png", "a.JPG", "c.tiff", "notes.txt", ".hidden.png"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.bmp").write_bytes(b"x")
    (tmp_path / "dir.png").mkdir()  # a folder with an image-like name is not an image
    assert [p.name for p in list_images(tmp_path)] == ["a.JPG", "b.png", "c.tiff"]
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path, recursive=True)] == [
        "a.JPG", "b.png", "c.tiff", "sub/d.bmp",
    ]


def test_list_images_bad_folder(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nowhere.*does not exist"):
        list_images(tmp_path / "nowhere")
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(ValueError, match=r"f\.png.*not a directory"):
        list_images(tmp_path / "f.png")
    assert IMAGE_EXTENSIONS == (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


# ------------------------------------------------------------------ to_model_input


@pytest.mark.parametrize(
    "image, expected_max",
    [
        (np.full((40, 60), 255, np.uint8), 1.0),
        (np.full((40, 60, 1), 51, np.uint8), 0.2),
        (np.full((40, 60, 3), 65535, np.uint16), 1.0),
        (np.full((40, 60, 4), 13107, np.uint16), 0.2),
        (np.full((40, 60, 3), 0.5, np.float32), 0.5),
        (np.full((40, 60), 0.25, np.float64), 0.25),
        (np.full((40, 60, 3), 0.75, np.float16), 0.75),
    ],
)
@pytest.mark.parametrize("size", [(20, 30), (40, 60), (64, 96), (32, 80)])
def test_to_model_input_dtypes_shapes(image: np.ndarray, expected_max: float, size) -> None:
    out = to_model_input(image, size)
    assert out.dtype == np.float32 and out.flags.c_contiguous
    assert out.shape == (*size, 3)
    np.testing.assert_allclose(out, expected_max, atol=1e-6)


def test_to_model_input_scaling_channels_and_range() -> None:
    img = np.zeros((10, 10, 4), np.uint8)
    img[..., 0], img[..., 1], img[..., 2], img[..., 3] = 0, 128, 255, 77
    out = to_model_input(img, (10, 10))
    np.testing.assert_allclose(out[0, 0], [0.0, 128 / 255, 1.0], rtol=1e-6)  # BGR kept, alpha gone
    gray = RNG.integers(0, 256, (50, 70), dtype=np.uint8)
    g = to_model_input(gray, (50, 70))
    np.testing.assert_array_equal(g[..., 0], g[..., 2])
    np.testing.assert_allclose(g[..., 1], gray / 255.0, rtol=1e-6)
    assert 0.0 <= g.min() and g.max() <= 1.0


def test_to_model_input_interpolation_choice() -> None:
    img = RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    shrunk = to_model_input(img, (16, 16))
    expected = cv2.resize(img, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32) / 255
    np.testing.assert_allclose(shrunk, expected, atol=1e-6)
    grown = to_model_input(img, (128, 100))
    expected = cv2.resize(img, (100, 128), interpolation=cv2.INTER_LINEAR).astype(np.float32) / 255
    np.testing.assert_allclose(grown, expected, atol=1e-6)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((4, 4), np.int32), "dtype int32"),
        (np.zeros((4, 4), bool), "dtype bool"),
        (np.zeros((4, 4, 2), np.uint8), r"shape \(4, 4, 2\)"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros((0, 4), np.uint8), "empty"),
        (np.full((4, 4), 255.0, np.float32), r"\[0, 1\]"),
        (np.full((4, 4), np.nan, np.float32), "finite"),
    ],
)
def test_to_model_input_rejects(image: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_model_input(image, (8, 8))


@pytest.mark.parametrize("size", [(0, 8), (8,), (8.5, 8), "ab"])
def test_to_model_input_rejects_bad_size(size) -> None:
    with pytest.raises(ValueError, match="size"):
        to_model_input(np.zeros((4, 4), np.uint8), size)


def test_evenly_spaced_keeps_order_and_spread():
    from core.io.images import evenly_spaced

    assert evenly_spaced(list(range(10)), 4) == [0, 2, 5, 7]
    assert evenly_spaced([1, 2], 5) == [1, 2]
    assert evenly_spaced([1, 2], 0) == []
