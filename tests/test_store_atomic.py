"""core.atomic: atomic replacement of files."""

import os
import stat

import pytest

from core.atomic import atomic_open, atomic_write_bytes, atomic_write_text


def _leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_write_bytes_and_text_replace_content(tmp_path):
    target = tmp_path / "sub" / "f.bin"
    atomic_write_bytes(target, b"one")
    atomic_write_bytes(target, b"two")
    assert target.read_bytes() == b"two"
    text = tmp_path / "t.txt"
    atomic_write_text(text, "a\nb\r\n")
    assert text.read_bytes() == b"a\nb\r\n"  # no newline translation
    assert _leftovers(tmp_path) == [] and _leftovers(target.parent) == []


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_new_file_is_world_readable_and_existing_mode_is_kept(tmp_path):
    f = tmp_path / "f"
    atomic_write_text(f, "x")
    assert stat.S_IMODE(f.stat().st_mode) == 0o644
    f.chmod(0o600)
    atomic_write_text(f, "y")
    assert stat.S_IMODE(f.stat().st_mode) == 0o600


def test_failure_inside_block_keeps_old_file(tmp_path):
    f = tmp_path / "f.txt"
    atomic_write_text(f, "old")
    with pytest.raises(RuntimeError):
        with atomic_open(f, "w") as fh:
            fh.write("half-written")
            raise RuntimeError("boom")
    assert f.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_bad_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="mode"):
        with atomic_open(tmp_path / "x", "a"):
            pass
