"""Checking a GenTL producer's file *without loading it*.

Loading a shared library runs its code (ELF constructors, ``DllMain``), so a ``.cti`` file is
first read as data: it must be an ELF shared object or a PE DLL for this machine's
architecture and word size, and its exported symbol table (ELF ``.dynsym`` / the dynamic
segment; PE export directory) must name the GenTL entry points. Only then is it handed to
harvesters, which loads it. This keeps files that are not producers at all (a stray
library, a renamed text file) from running; it cannot make a hostile producer harmless: a
file that exports the GenTL functions still runs when loaded, so only trusted folders (not
writable by other users) belong on ``GENICAM_GENTL64_PATH`` and in the settings.
"""

from __future__ import annotations

import platform
import struct
import sys
from pathlib import Path
from typing import BinaryIO

__all__ = ["GENTL_SYMBOLS", "ProducerFileError", "exported_symbols", "check_producer_file"]

# Entry points every GenTL producer exports (GenTL standard: system, interface, device, stream)
GENTL_SYMBOLS = ("GCInitLib", "GCCloseLib", "TLOpen", "TLClose", "TLUpdateInterfaceList",
                 "TLOpenInterface", "IFOpenDevice", "DevOpenDataStream", "DSStartAcquisition")
MAX_SYMBOLS = 1_000_000
MAX_NAME = 4096

_ELF_MACHINES = {3: "x86", 62: "x86_64", 40: "arm", 183: "aarch64", 243: "riscv",
                 8: "mips", 20: "ppc", 21: "ppc64"}
_PE_MACHINES = {0x14C: "x86", 0x8664: "x86_64", 0x1C0: "arm", 0x1C4: "arm", 0xAA64: "aarch64"}
_HOST_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "i386": "x86", "i486": "x86",
                 "i586": "x86", "i686": "x86", "arm64": "aarch64", "armv7l": "arm",
                 "armv8l": "arm"}


class ProducerFileError(ValueError):
    """The file is not a loadable shared library for this machine (the message says why)."""


def host_machine() -> str:
    m = platform.machine().lower()
    return _HOST_ALIASES.get(m, m)


def check_producer_file(path: Path) -> str | None:
    """None when ``path`` passes the static checks, else the reason (never raises)."""
    try:
        symbols = exported_symbols(path)
    except ProducerFileError as exc:
        return f"cannot be loaded: {exc}"
    except OSError as exc:
        return f"cannot be read: {exc}"
    missing = [s for s in GENTL_SYMBOLS if s not in symbols]
    if missing:
        return f"is not a GenTL producer (missing {', '.join(missing)}); not loaded"
    return None


def exported_symbols(path: Path) -> set[str]:
    """Names of the functions ``path`` exports; ProducerFileError if it is not a shared
    library for this machine, or its tables are damaged."""
    with open(path, "rb") as fh:
        head = fh.read(64)
        if head[:4] == b"\x7fELF":
            return _Elf(fh).symbols()
        if head[:2] == b"MZ":
            return _Pe(fh).symbols()
    raise ProducerFileError("not a shared library (no ELF or PE header)")


class _Reader:
    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        fh.seek(0, 2)
        self.size = fh.tell()

    def read(self, offset: int, n: int, what: str) -> bytes:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise ProducerFileError(f"damaged library: {what} lies outside the file")
        self.fh.seek(offset)
        return self.fh.read(n)

    def cstring(self, offset: int, limit: int, what: str) -> str:
        end = min(self.size, offset + MAX_NAME, limit)
        data = self.read(offset, max(0, end - offset), what)
        nul = data.find(b"\0")
        if nul < 0:
            raise ProducerFileError(f"damaged library: unterminated {what}")
        return data[:nul].decode("latin-1")


def _check_host(machine: str, bits: int) -> None:
    host, host_bits = host_machine(), 64 if sys.maxsize > 2**32 else 32
    if machine != host or bits != host_bits:
        raise ProducerFileError(f"built for {machine} {bits}-bit, this program is {host} "
                                f"{host_bits}-bit")


class _Elf(_Reader):
    def symbols(self) -> set[str]:
        ident = self.read(0, 16, "ELF header")
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ProducerFileError("damaged ELF header (class or byte order)")
        self.bits = 32 if ident[4] == 1 else 64
        self.e = "<" if ident[5] == 1 else ">"
        w = "I" if self.bits == 32 else "Q"
        fmt = f"{self.e}HHI{w}{w}{w}IHHHHHH"
        (e_type, machine, _v, _entry, self.phoff, shoff, _flags, _eh, self.phentsize,
         self.phnum, shentsize, shnum, _shstrndx) = struct.unpack(
            fmt, self.read(16, struct.calcsize(fmt), "ELF header"))
        if e_type != 3:  # ET_DYN
            kind = {1: "an object file", 2: "a program", 4: "a core dump"}.get(e_type, "unknown")
            raise ProducerFileError(f"not a shared library (ELF file of type {e_type}: {kind})")
        _check_host(_ELF_MACHINES.get(machine, f"machine {machine}"), self.bits)
        sections = self._sections(shoff, shentsize, shnum)
        for sh_type, _addr, offset, size, link, entsize in sections:
            if sh_type == 11:  # SHT_DYNSYM, its names in section ``link``
                if not 0 <= link < len(sections):
                    raise ProducerFileError("damaged ELF: symbol names section missing")
                _, _, str_off, str_size, _, _ = sections[link]
                return self._read_syms(offset, size // max(entsize, 1), entsize,
                                       str_off, str_off + str_size)
        return self._dynamic_symbols()

    def _sections(self, shoff: int, shentsize: int, shnum: int) -> list[tuple]:
        if shoff == 0 or shnum == 0:
            return []
        w = "I" if self.bits == 32 else "Q"
        fmt = f"{self.e}II{w}{w}{w}{w}II{w}{w}"
        if shentsize < struct.calcsize(fmt):
            raise ProducerFileError("damaged ELF: section header size")
        out = []
        for i in range(shnum):
            (_name, sh_type, _flags, addr, offset, size, link, _info, _align, entsize) = \
                struct.unpack(fmt, self.read(shoff + i * shentsize, struct.calcsize(fmt),
                                             "section header"))
            out.append((sh_type, addr, offset, size, link, entsize))
        return out

    def _read_syms(self, offset: int, count: int, entsize: int, str_start: int,
                   str_end: int) -> set[str]:
        fmt = f"{self.e}IIIBBH" if self.bits == 32 else f"{self.e}IBBHQQ"
        if entsize < struct.calcsize(fmt) or count > MAX_SYMBOLS:
            raise ProducerFileError("damaged ELF: symbol table")
        names = set()
        for i in range(count):
            fields = struct.unpack(fmt, self.read(offset + i * entsize, struct.calcsize(fmt),
                                                  "symbol table"))
            if self.bits == 32:
                name, _value, _size, info, _other, shndx = fields
            else:
                name, info, _other, shndx, _value, _size = fields
            kind, bind = info & 0xF, info >> 4
            if shndx != 0 and kind in (2, 10) and bind in (1, 2):  # defined global functions
                names.add(self.cstring(str_start + name, str_end, "symbol name"))
        return names

    def _dynamic_symbols(self) -> set[str]:
        """Without section headers (stripped hard): from the dynamic segment's tables."""
        ph_fmt = (f"{self.e}IIIIIIII" if self.bits == 32 else f"{self.e}IIQQQQQQ")
        loads, dynamic = [], None
        for i in range(min(self.phnum, 4096)):
            f = struct.unpack(ph_fmt, self.read(self.phoff + i * self.phentsize,
                                                struct.calcsize(ph_fmt), "program header"))
            if self.bits == 32:
                p_type, p_offset, p_vaddr, _pa, p_filesz = f[:5]
            else:
                p_type, _flags, p_offset, p_vaddr, _pa, p_filesz = f[:6]
            if p_type == 1:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == 2:
                dynamic = (p_offset, p_filesz)
        if dynamic is None:
            raise ProducerFileError("damaged ELF: no dynamic symbol table")
        tags: dict[int, int] = {}
        d_fmt = f"{self.e}iI" if self.bits == 32 else f"{self.e}qQ"  # d_tag, d_val
        step = struct.calcsize(d_fmt)
        for i in range(min(dynamic[1] // step, 100_000)):
            tag, val = struct.unpack(d_fmt, self.read(dynamic[0] + i * step, step, "dynamic"))
            if tag == 0:
                break
            tags.setdefault(tag, val)

        def to_offset(addr: int) -> int:
            for vaddr, off, filesz in loads:
                if vaddr <= addr < vaddr + filesz:
                    return off + addr - vaddr
            raise ProducerFileError("damaged ELF: dynamic table outside the file")

        if 6 not in tags or 5 not in tags:  # DT_SYMTAB, DT_STRTAB
            raise ProducerFileError("damaged ELF: no dynamic symbol table")
        symtab, strtab = to_offset(tags[6]), to_offset(tags[5])
        entsize = tags.get(11, 16 if self.bits == 32 else 24)
        if 4 in tags:  # DT_HASH: nchain = number of symbols
            count = struct.unpack(f"{self.e}II", self.read(to_offset(tags[4]), 8, "hash"))[1]
        elif strtab > symtab:  # symbols usually directly precede their names
            count = (strtab - symtab) // max(entsize, 1)
        else:
            raise ProducerFileError("damaged ELF: cannot size the symbol table")
        return self._read_syms(symtab, count, entsize, strtab, strtab + tags.get(10, 0))


class _Pe(_Reader):
    def symbols(self) -> set[str]:
        lfanew = struct.unpack("<I", self.read(0x3C, 4, "DOS header"))[0]
        if self.read(lfanew, 4, "PE signature") != b"PE\0\0":
            raise ProducerFileError("not a shared library (MZ file without a PE header)")
        machine, nsect, _t, _p, _n, opt_size, chars = struct.unpack(
            "<HHIIIHH", self.read(lfanew + 4, 20, "COFF header"))
        if not chars & 0x2000:
            raise ProducerFileError("not a shared library (a PE program, not a DLL)")
        opt = lfanew + 24
        magic = struct.unpack("<H", self.read(opt, 2, "optional header"))[0]
        if magic not in (0x10B, 0x20B):
            raise ProducerFileError("damaged PE optional header")
        _check_host(_PE_MACHINES.get(machine, f"machine 0x{machine:x}"),
                    32 if magic == 0x10B else 64)
        dd = opt + (96 if magic == 0x10B else 112)
        ndirs = struct.unpack("<I", self.read(dd - 4, 4, "optional header"))[0]
        if ndirs < 1 or dd + 8 > opt + opt_size:
            return set()  # no export directory
        exp_rva, exp_size = struct.unpack("<II", self.read(dd, 8, "data directory"))
        if exp_rva == 0 or exp_size == 0:
            return set()
        self.sections = [struct.unpack("<IIII", self.read(opt + opt_size + i * 40 + 8, 16,
                                                          "section table"))
                         for i in range(min(nsect, 96))]
        fields = struct.unpack("<IIHHIIIIIII", self.read(self.offset(exp_rva), 40, "exports"))
        n_names, names_rva = fields[7], fields[9]
        if n_names > MAX_SYMBOLS:
            raise ProducerFileError("damaged PE export table")
        rvas = struct.unpack(f"<{n_names}I", self.read(self.offset(names_rva), 4 * n_names,
                                                       "export names"))
        return {self.cstring(self.offset(r), self.size, "export name") for r in rvas}

    def offset(self, rva: int) -> int:
        for vsize, vaddr, raw_size, raw_ptr in self.sections:
            if vaddr <= rva < vaddr + max(vsize, raw_size):
                return raw_ptr + rva - vaddr
        raise ProducerFileError("damaged PE: address outside every section")
