"""Finding and checking GenTL producers (``.cti`` files).

Search order: the ``GENICAM_GENTL64_PATH`` environment variable (``os.pathsep``
separated directories or files), then paths from the application's settings
(passed in as ``extra_paths``), then the ``viky.cti`` simulator bundled in the
``genicam`` wheel. Each candidate is checked on its own, so a broken producer is
reported with its reason while the others still load.

Loading a producer runs its code, with this program's rights. Each file is therefore first
checked as data (:mod:`core.camera.genicam.producer_check`: an ELF/PE shared library for this
machine that exports the GenTL entry points) and only then handed to harvesters; a file that
fails is reported and never loaded. That check cannot tell a hostile producer from a good
one: only trusted folders, writable by administrators alone, belong on the path.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.camera.genicam.producer_check import check_producer_file

ENV_VAR = "GENICAM_GENTL64_PATH"


@dataclass(slots=True)
class ProducerReport:
    """Which producers were loaded and which failed (with the reason)."""

    loaded: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def problems(self) -> list[str]:
        return [f"GenTL producer {path}: {reason}" for path, reason in self.failed]


def bundled_viky_cti() -> Path | None:
    """The simulated GenTL producer shipped inside the ``genicam`` wheel, if present."""
    spec = importlib.util.find_spec("genicam")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "viky.cti"
        if candidate.is_file():
            return candidate
    return None


def _expand(entry: Path, report: ProducerReport) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.iterdir() if p.suffix.lower() == ".cti" and p.is_file())
    if entry.is_file():
        return [entry]
    report.failed.append((entry, "does not exist"))
    return []


def find_producers(
    extra_paths: Iterable[str | os.PathLike[str]] = (),
    *,
    env: Mapping[str, str] | None = None,
    include_bundled: bool = True,
    report: ProducerReport | None = None,
) -> list[Path]:
    """Candidate ``.cti`` files, de-duplicated, in search order.

    Missing entries named explicitly (environment or settings) are recorded in
    ``report.failed``; an existing directory without producers is not an error.
    """
    env = os.environ if env is None else env
    report = report if report is not None else ProducerReport()
    entries: list[Path] = [Path(p) for p in env.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    entries += [Path(p) for p in extra_paths]
    found: list[Path] = []
    for entry in entries:
        found += _expand(entry, report)
    if include_bundled:
        viky = bundled_viky_cti()
        if viky is not None:
            found.append(viky)
    unique: list[Path] = []
    seen: set[str] = set()
    for path in found:
        key = os.path.normcase(str(path.resolve()))
        if key not in seen:
            seen.add(key)
            unique.append(path)
    return unique


def check_producer(path: Path) -> str | None:
    """Return None when ``path`` looks like a loadable GenTL producer, else the reason.
    The file is read, never loaded: nothing in it runs here."""
    if not path.is_file():
        return "does not exist"
    return check_producer_file(path)


def load_producers(harvester: object, paths: Iterable[Path], report: ProducerReport) -> None:
    """Check each producer and add the good ones to a harvesters ``Harvester``."""
    for path in paths:
        reason = check_producer(path)
        if reason is None:
            try:
                harvester.add_file(str(path))  # type: ignore[attr-defined]
            except Exception as exc:  # harvesters raises several types here
                reason = f"rejected by harvesters: {exc}"
        if reason is None:
            report.loaded.append(path)
        else:
            report.failed.append((path, reason))
