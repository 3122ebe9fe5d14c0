"""Issue 13 item 20: a .cti file is checked as data (ELF / PE, exported GenTL symbols) before
it is loaded, so a library that is not a producer never runs."""

import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from core.camera.genicam.harvester_hub import HarvesterHub
from core.camera.genicam.producer_check import GENTL_SYMBOLS, exported_symbols, host_machine
from core.camera.genicam.producers import ProducerReport, bundled_viky_cti, check_producer, load_producers

CONSTRUCTOR_C = r"""
#include <stdio.h>
__attribute__((constructor)) static void ran(void) {
    FILE *f = fopen("%(marker)s", "w");
    if (f) { fputs("ran", f); fclose(f); }
}
%(exports)s
"""


def _compile(tmp_path: Path, name: str, exports: tuple[str, ...] = ()) -> tuple[Path, Path]:
    """A shared library named ``name`` whose constructor writes a marker file."""
    if shutil.which("gcc") is None:
        pytest.skip("gcc is needed to build the test library")
    marker = tmp_path / f"{name}.ran"
    src = tmp_path / f"{name}.c"
    src.write_text(CONSTRUCTOR_C % {"marker": marker, "exports": "\n".join(
        f"int {sym}(void) {{ return 0; }}" for sym in exports)})
    lib = tmp_path / name
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(lib), str(src)], check=True,
                   capture_output=True, timeout=120)
    return lib, marker


class _FakeHarvester:
    def __init__(self) -> None:
        self.files: list[str] = []
        self.device_info_list: list = []

    def add_file(self, path: str) -> None:
        self.files.append(path)

    def update(self) -> None:
        pass

    def reset(self) -> None:
        pass


def test_library_that_is_not_a_producer_never_runs(tmp_path):
    evil, marker = _compile(tmp_path, "evil.cti")
    reason = check_producer(evil)
    assert reason is not None and "is not a GenTL producer" in reason and "GCInitLib" in reason
    assert not marker.exists()  # its constructor did not run
    fake = _FakeHarvester()
    hub = HarvesterHub([evil], include_bundled=False, harvester_factory=lambda: fake, env={})
    hub.devices()
    assert fake.files == [] and not marker.exists()
    assert "evil.cti: is not a GenTL producer" in "\n".join(hub.report.problems())


def test_exports_of_a_built_library_are_read_without_loading_it(tmp_path):
    lib, marker = _compile(tmp_path, "fake_producer.cti", exports=GENTL_SYMBOLS)
    assert set(GENTL_SYMBOLS) <= exported_symbols(lib)
    assert check_producer(lib) is None  # passes the checks: harvesters may load it
    assert not marker.exists()  # (checking did not load it)


def test_text_file_renamed_cti_is_refused(tmp_path):
    fake = tmp_path / "notes.cti"
    fake.write_text("GCInitLib TLOpen: this is just text\n")
    assert check_producer(fake) == "cannot be loaded: not a shared library (no ELF or PE header)"


def test_bundled_viky_producer_still_passes():
    viky = bundled_viky_cti()
    if viky is None:
        pytest.skip("viky.cti not found in the genicam package")
    assert check_producer(viky) is None
    assert set(GENTL_SYMBOLS) <= exported_symbols(viky)


def _viky_bytes() -> bytes:
    viky = bundled_viky_cti()
    if viky is None:
        pytest.skip("viky.cti not found in the genicam package")
    return viky.read_bytes()


def test_viky_without_section_headers_is_read_from_its_dynamic_segment(tmp_path):
    data = bytearray(_viky_bytes())
    struct.pack_into("<Q", data, 0x28, 0)  # e_shoff
    struct.pack_into("<H", data, 0x3C, 0)  # e_shnum
    stripped = tmp_path / "stripped.cti"
    stripped.write_bytes(bytes(data))
    assert exported_symbols(stripped) == exported_symbols(bundled_viky_cti())


def test_damaged_elf_files_give_a_reason_never_an_exception(tmp_path):
    data = _viky_bytes()
    cases = {"truncated": data[:200], "header only": data[:64], "magic only": b"\x7fELF",
             "other arch": data[:18] + struct.pack("<H", 183 if host_machine() != "aarch64"
                                                   else 62) + data[20:],
             "executable": data[:16] + struct.pack("<H", 2) + data[18:]}
    for offset in range(0x20, 0x40, 2):  # every field of the header past e_ident, in turn
        cases[f"byte {offset:#x}"] = data[:offset] + b"\xff\xff" + data[offset + 2:]
    for what, content in cases.items():
        path = tmp_path / "x.cti"
        path.write_bytes(content)
        reason = check_producer(path)
        assert reason is None or isinstance(reason, str), what
        if what in ("truncated", "header only", "magic only", "other arch", "executable"):
            assert reason and reason.startswith("cannot be loaded: "), (what, reason)
    assert "built for aarch64" in _reason(tmp_path, cases["other arch"]) or \
        "built for x86_64" in _reason(tmp_path, cases["other arch"])
    assert "not a shared library" in _reason(tmp_path, cases["executable"])


def _reason(tmp_path: Path, content: bytes) -> str:
    path = tmp_path / "y.cti"
    path.write_bytes(content)
    return check_producer(path) or ""


def _pe_dll(exports: tuple[str, ...], *, machine: int = 0x8664, dll: bool = True) -> bytes:
    """A minimal PE32+ file with one section holding an export directory (never run)."""
    sect_rva, sect_raw = 0x1000, 0x200
    names = b"".join(n.encode() + b"\0" for n in exports)
    n = len(exports)
    exp_dir_size = 40
    name_ptrs_rva = sect_rva + exp_dir_size
    strings_rva = name_ptrs_rva + 4 * n
    ptrs, rva = [], strings_rva
    for name in exports:
        ptrs.append(rva)
        rva += len(name) + 1
    export_dir = struct.pack("<IIHHIIIIIII", 0, 0, 0, 0, 0, 1, n, n, 0, name_ptrs_rva, 0)
    section = export_dir + struct.pack(f"<{n}I", *ptrs) + names
    opt_size = 112 + 16 * 8
    optional = bytearray(opt_size)
    struct.pack_into("<H", optional, 0, 0x20B)
    struct.pack_into("<I", optional, 108, 16)  # NumberOfRvaAndSizes
    struct.pack_into("<II", optional, 112, sect_rva, len(section))  # export directory
    coff = struct.pack("<HHIIIHH", machine, 1, 0, 0, 0, opt_size, 0x2002 if dll else 0x0002)
    table = struct.pack("<8sIIIIIIHHI", b".edata", len(section), sect_rva, len(section),
                        sect_raw, 0, 0, 0, 0, 0x40000040)
    dos = bytearray(64)
    dos[:2] = b"MZ"
    struct.pack_into("<I", dos, 0x3C, 64)
    head = bytes(dos) + b"PE\0\0" + coff + bytes(optional) + table
    return head + bytes(sect_raw - len(head)) + section


@pytest.mark.skipif(host_machine() != "x86_64", reason="the PE samples are x86-64 DLLs")
def test_pe_export_table_is_read(tmp_path):
    good = tmp_path / "vendor.cti"
    good.write_bytes(_pe_dll(GENTL_SYMBOLS + ("Extra",)))
    assert exported_symbols(good) == set(GENTL_SYMBOLS) | {"Extra"}
    assert check_producer(good) is None  # (on Windows harvesters would load it next)
    partial = tmp_path / "partial.cti"
    partial.write_bytes(_pe_dll(("GCInitLib", "TLOpen")))
    assert "missing GCCloseLib" in check_producer(partial)
    exe = tmp_path / "program.cti"
    exe.write_bytes(_pe_dll(GENTL_SYMBOLS, dll=False))
    assert "a PE program, not a DLL" in check_producer(exe)
    arm = tmp_path / "arm.cti"
    arm.write_bytes(_pe_dll(GENTL_SYMBOLS, machine=0xAA64))
    assert "built for aarch64 64-bit" in check_producer(arm)
    for cut in (70, 100, 300, 0x210):
        broken = tmp_path / f"cut{cut}.cti"
        broken.write_bytes(good.read_bytes()[:cut])
        assert check_producer(broken).startswith("cannot be loaded: ")


def test_load_producers_passes_only_checked_files_to_harvesters(tmp_path):
    text = tmp_path / "text.cti"
    text.write_text("hello")
    fake, report = _FakeHarvester(), ProducerReport()
    paths = [text] + ([bundled_viky_cti()] if bundled_viky_cti() else [])
    load_producers(fake, paths, report)
    assert fake.files == [str(p) for p in paths[1:]]
    assert [p for p, _ in report.failed] == [text]
