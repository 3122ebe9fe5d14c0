"""Archive of inspected images and heat maps, under dated folders, with retention.

Files go to ``<archive>/YYYY-MM-DD/<recipe>/HHMMSS-mmm_f<frame>_<VERDICT>.png`` (local
date and time of the inspection) and ``..._heat.png``. Paths handed back (and stored in the
results database) are relative to the archive folder, with forward slashes; use
:meth:`ImageArchive.resolve` to get a file path. Retention removes the oldest files
(by modification time) past an age or beyond a total size; the database rows stay. It
deletes only regular files whose path and name the archive itself writes, never follows a
link (a linked archive folder is refused), and refuses limits that are not positive.
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import random
import re
import shutil
import stat
import time as _time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from core.atomic import atomic_write_bytes
from core.recipe import VERDICTS
from core.recipe.model import NAME_RE, check_name
from core.store.errors import StoreError

if TYPE_CHECKING:
    import numpy as np

_log = logging.getLogger(__name__)
_DAY_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_FILE_RE = re.compile(r"^\d{6}-\d{3}(?:_f-?\d+)?_(?:OK|REVIEW|NG)(?:-\d+)?(?:_heat)?\.png$")


def is_archive_file(rel: str) -> bool:
    """True for ``YYYY-MM-DD/<recipe>/HHMMSS-mmm[_fN]_VERDICT[-n][_heat].png``."""
    parts = rel.split("/")
    return (len(parts) == 3 and bool(_DAY_RE.match(parts[0])) and bool(NAME_RE.match(parts[1]))
            and bool(_FILE_RE.match(parts[2])))


@dataclass(frozen=True)
class ArchivedPaths:
    image: str
    heatmap: str | None


@dataclass
class PruneReport:
    removed: list[str] = field(default_factory=list)  # relative paths
    bytes_freed: int = 0
    bytes_left: int = 0


def _encode_png(image: np.ndarray, what: str) -> bytes:
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise StoreError(f"archive: cannot encode {what} as PNG "
                         f"(shape {image.shape}, dtype {image.dtype})")
    return buf.tobytes()


def heatmap_to_bgr(heatmap: np.ndarray) -> np.ndarray:
    """uint8 images are kept as they are; float anomaly maps (0..1) get a JET colour map."""
    import numpy as np

    from core.display import heatmap_bgr

    if heatmap.dtype == np.uint8:
        return heatmap
    if heatmap.ndim != 2:
        raise StoreError(f"archive: a float heat map must be 2-D, got shape {heatmap.shape}")
    return heatmap_bgr(heatmap.astype(np.float32, copy=False))


class ImageArchive:
    """Writes archived images; ``ok_sample_fraction`` of OK frames are kept too (0 = none)."""

    def __init__(self, root: str | os.PathLike, *, ok_sample_fraction: float = 0.0,
                 seed: int | None = None) -> None:
        if not 0.0 <= ok_sample_fraction <= 1.0:
            raise StoreError(f"archive: ok_sample_fraction must be between 0 and 1, "
                             f"got {ok_sample_fraction!r}")
        self.root = Path(root)
        self.ok_sample_fraction = ok_sample_fraction
        self._rng = random.Random(seed)

    def should_archive(self, verdict: str) -> bool:
        verdict = str(getattr(verdict, "value", verdict))
        if verdict not in VERDICTS:
            raise StoreError(f"archive: unknown verdict {verdict!r}")
        if verdict != "OK":
            return True
        return self.ok_sample_fraction > 0 and self._rng.random() < self.ok_sample_fraction

    def resolve(self, rel: str) -> Path:
        return self.root / rel

    def save(self, image: np.ndarray, heatmap: np.ndarray | None, *, time: float, recipe: str,
             verdict: str, frame_id: int | None = None) -> ArchivedPaths:
        """Write the image (and heat map) as PNG atomically; returns their relative paths."""
        verdict = str(getattr(verdict, "value", verdict))
        stamp = _dt.datetime.fromtimestamp(time)
        folder = f"{stamp:%Y-%m-%d}/{check_name(recipe)}"
        frame = "" if frame_id is None else f"_f{frame_id}"
        base = f"{stamp:%H%M%S}-{stamp.microsecond // 1000:03d}{frame}_{verdict}"
        stem, n = base, 1
        while (self.root / folder / f"{stem}.png").exists():  # same ms and frame: keep both
            n += 1
            stem = f"{base}-{n}"
        img_rel = f"{folder}/{stem}.png"
        img_bytes = _encode_png(image, "image")
        heat_bytes = None if heatmap is None else _encode_png(heatmap_to_bgr(heatmap), "heat map")
        heat_rel = None
        if heat_bytes is not None:
            heat_rel = f"{folder}/{stem}_heat.png"
            atomic_write_bytes(self.resolve(heat_rel), heat_bytes)
        atomic_write_bytes(self.resolve(img_rel), img_bytes)
        return ArchivedPaths(img_rel, heat_rel)

    def _files(self) -> list[tuple[float, int, Path]]:
        """The archive's own image files, oldest first; links are neither listed nor followed."""
        out: list[tuple[float, int, Path]] = []
        if self.root.is_symlink():
            raise StoreError(f"archive: {self.root} is a symbolic link; retention does not "
                             f"follow links (use the real folder as the data folder)")
        if not self.root.is_dir():
            return out
        for dirpath, dirs, files in os.walk(self.root, followlinks=False):
            dirs[:] = [d for d in dirs if not (Path(dirpath) / d).is_symlink()]
            for f in files:
                p = Path(dirpath) / f
                if not is_archive_file(p.relative_to(self.root).as_posix()):
                    continue  # not written by the archive (nor a temporary file of a write)
                try:
                    st = p.lstat()
                except FileNotFoundError:
                    continue
                if stat.S_ISREG(st.st_mode):
                    out.append((st.st_mtime, st.st_size, p))
        out.sort(key=lambda t: (t[0], str(t[2])))
        return out

    def free_bytes(self) -> int:
        """Free space on the archive's disk (of its nearest existing folder)."""
        folder = self.root
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free

    def total_bytes(self) -> int:
        return sum(size for _, size, _ in self._files())

    def prune(self, *, max_age_days: float | None = None, max_total_bytes: int | None = None,
              now: float | None = None) -> PruneReport:
        """Delete files older than ``max_age_days``, then the oldest until under the size cap.

        Both limits must be positive (0 or less would delete everything): StoreError.
        """
        _check_limit("max_age_days", max_age_days)
        _check_limit("max_total_bytes", max_total_bytes)
        now = _time.time() if now is None else now
        files = self._files()
        total = sum(size for _, size, _ in files)
        report = PruneReport()
        cutoff = None if max_age_days is None else now - max_age_days * 86400.0
        for mtime, size, path in files:
            too_old = cutoff is not None and mtime < cutoff
            too_big = max_total_bytes is not None and total > max_total_bytes
            if not (too_old or too_big):
                break  # files are oldest first: nothing later qualifies
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # read-only file system, permissions: skip it, go on
                _log.warning("archive: cannot delete %s (%s)", path, exc.strerror or exc)
                continue
            total -= size
            report.bytes_freed += size
            report.removed.append(path.relative_to(self.root).as_posix())
            self._remove_empty_parents(path.parent)
        report.bytes_left = total
        return report

    def _remove_empty_parents(self, folder: Path) -> None:
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent


def _check_limit(name: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or value <= 0:
        raise StoreError(f"archive retention: {name} must be a positive finite number, "
                         f"got {value!r} (0 or less would delete every image)")
