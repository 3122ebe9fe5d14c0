"""ResultsStore: one object for the GUI/CLI that records, archives, prunes and queries.

It owns a :class:`ResultsWriter` (the only writer of ``<data>/results/results.sqlite``), an
:class:`ImageArchive` (``<data>/archive``) and a :class:`ResultsQuery`. Use it as a
context manager or call :meth:`close` so the last batch is committed.

Retention runs by itself (the station's :class:`RetentionPolicy`): on the first frame due
for archiving, then every ``prune_every`` such frames, also while a nearly full disk stops
archiving (age pruning is what frees it); each prune runs in its own thread, never in the
recording one (:meth:`ResultsStore.wait_retention`). No image is archived while the writer cannot record
rows, nor when the disk has less than ``min_free_mb`` free: the row is still recorded,
without an image, and :attr:`archive_alarm` says why.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from core.recipe import RecipeError
from core.store import paths
from core.store.archive import ImageArchive, PruneReport
from core.store.errors import StoreError
from core.store.records import ResultRecord
from core.store.results_query import ResultsQuery
from core.store.results_writer import ResultsWriter
from core.store.retention import RetentionPolicy, load_policy

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


class ResultsStore(ResultsQuery):
    """Record inspections under ``data_dir`` (None: see :func:`core.store.paths.data_dir`).

    Query methods (summary, score_distribution, last, iter_records, export_csv) come from
    :class:`ResultsQuery` and see committed rows only; call :meth:`flush` first if needed.
    """

    def __init__(self, data_dir: str | os.PathLike | None = None, *,
                 ok_sample_fraction: float = 0.0, batch_size: int = 50,
                 max_delay_s: float = 0.2,
                 on_commit: Callable[[list[ResultRecord]], None] | None = None,
                 on_error: Callable[[BaseException], None] | None = None,
                 seed: int | None = None, retention: RetentionPolicy | None = None,
                 **writer_options: object) -> None:
        """``retention`` None: the station's (see :func:`core.store.retention.load_policy`);
        ``writer_options`` go to :class:`ResultsWriter` (max_pending, wait, connect...)."""
        self.data_dir = paths.data_dir(data_dir)
        super().__init__(paths.results_db_path(self.data_dir))
        self.retention = load_policy(self.data_dir) if retention is None else retention
        self.archive = ImageArchive(paths.archive_dir(self.data_dir),
                                    ok_sample_fraction=ok_sample_fraction, seed=seed)
        self.archive_skipped = 0  # images not archived (writer failing, disk nearly full)
        self.archive_alarm = ""  # why images are not being archived or pruned; "" when fine
        self._due = 0  # frames due for archiving while the writer accepts rows
        self._retention_thread: threading.Thread | None = None
        self.writer = ResultsWriter(self.db_path, batch_size=batch_size,
                                    max_delay_s=max_delay_s, on_commit=on_commit,
                                    on_error=on_error, **writer_options)

    def record(self, record: ResultRecord, image: np.ndarray | None = None,
               heatmap: np.ndarray | None = None) -> ResultRecord:
        """Archive the image if its verdict calls for it, then queue the record.

        Images are BGR (or gray) arrays as OpenCV uses; a float heat map (0..1) is colour
        mapped. Returns the record as queued (with archive paths; ``id`` still None). The
        image is not archived (the row is still queued) while the writer cannot record, the
        disk is nearly full or the archive cannot be written.
        """
        record.check()
        if image is not None and self.archive.should_archive(record.verdict):
            record = self._archive(record, image, heatmap)
        try:
            queued = self.writer.append(record)
        except BaseException:  # not recorded: no image without its row
            self._unarchive(record)
            raise
        if not queued:  # lost (queue and journal full): the writer's alarm says so
            self._unarchive(record)
            record = dataclasses.replace(record, image_path=None, heatmap_path=None)
        return record

    def _unarchive(self, record: ResultRecord) -> None:
        for rel in (record.image_path, record.heatmap_path):
            if rel is not None:
                try:
                    self.archive.resolve(rel).unlink(missing_ok=True)
                except OSError as exc:
                    log.error("cannot delete %s of a result not recorded (%s)", rel, exc)

    def _archive(self, record: ResultRecord, image: np.ndarray,
                 heatmap: np.ndarray | None) -> ResultRecord:
        if not self.writer.accepting:  # the writer's alarm says why; no image without its row
            self.archive_skipped += 1
            return record
        # counted per frame due for archiving, not per image saved: age pruning goes on
        # (and can free the disk) while a nearly full disk stops archiving
        self._due += 1
        if (self._due - 1) % self.retention.prune_every == 0:
            self._auto_retention()
        why = ""
        try:
            free = self.archive.free_bytes()
        except OSError:
            free = None
        if free is not None and free < self.retention.min_free_mb * 2**20:
            why = (f"only {free / 2**20:.0f} MB free on the archive's disk "
                   f"(below {self.retention.min_free_mb:g} MB)")
        if not why:
            try:
                saved = self.archive.save(image, heatmap, time=record.time,
                                          recipe=record.recipe, verdict=record.verdict,
                                          frame_id=record.frame_id)
            except (OSError, StoreError, RecipeError) as exc:
                why = f"cannot write the archive ({exc})"
            else:
                if self.archive_alarm.startswith("images not archived"):
                    log.warning("images are being archived again")
                    self.archive_alarm = ""
                return dataclasses.replace(record, image_path=saved.image,
                                           heatmap_path=saved.heatmap)
        self.archive_skipped += 1
        message = f"images not archived: {why}"
        if message != self.archive_alarm:
            log.error("%s", message)
            self.archive_alarm = message
        return record

    def _auto_retention(self) -> None:
        """Start a prune in its own thread (it walks the whole archive: seconds on a full
        one, which must not stall recording); one at a time, a due one is skipped meanwhile."""
        t = self._retention_thread
        if t is not None and t.is_alive():
            return
        self._retention_thread = threading.Thread(target=self._retention_run, daemon=True,
                                                  name="archive-retention")
        self._retention_thread.start()

    def wait_retention(self, timeout: float | None = None) -> bool:
        """Wait for a running automatic prune; True when none is running (any more)."""
        t = self._retention_thread
        if t is not None:
            t.join(timeout)
            return not t.is_alive()
        return True

    def _retention_run(self) -> None:
        p = self.retention
        try:
            self.apply_retention(max_age_days=p.max_age_days, max_total_mb=p.max_size_mb)
        except (OSError, StoreError) as exc:
            message = f"archive retention not running: {exc}"
            if message != self.archive_alarm:
                log.error("%s", message)
                self.archive_alarm = message
        else:
            if self.archive_alarm.startswith("archive retention"):
                self.archive_alarm = ""

    @property
    def alarm(self) -> str:
        """What the operator must know about recording, "" when all is well."""
        return "; ".join(a for a in (self.writer.alarm, self.archive_alarm) if a)

    def append(self, record: ResultRecord) -> bool:
        """Queue a record as is (no archiving); False if it could not be kept."""
        return self.writer.append(record)

    def image_file(self, rel: str | None) -> Path | None:
        """File path of an archived image path stored in a record (None stays None)."""
        return None if rel is None else self.archive.resolve(rel)

    def apply_retention(self, *, max_age_days: float | None = None,
                        max_total_mb: float | None = None,
                        now: float | None = None) -> PruneReport:
        """Prune archived files by age and total size; their rows are flagged, never deleted.

        Limits must be positive and finite (StoreError otherwise: 0 would wipe the archive).
        """
        cap = None
        if max_total_mb is not None:
            if isinstance(max_total_mb, bool) or not isinstance(max_total_mb, (int, float)) \
                    or not 0 < max_total_mb < float("inf"):
                raise StoreError(f"archive retention: max_total_mb must be a positive finite "
                                 f"number, got {max_total_mb!r}")
            cap = max(1, int(max_total_mb * 1024 * 1024))
        report = self.archive.prune(max_age_days=max_age_days, max_total_bytes=cap, now=now)
        self.writer.mark_pruned(report.removed)
        return report

    @property
    def committed_count(self) -> int:
        return self.writer.committed_count

    def flush(self, timeout: float | None = 30.0) -> None:
        self.writer.flush(timeout)

    def close(self, timeout: float | None = 30.0) -> None:
        if not self.wait_retention(timeout):  # its prune flags go to the writer: wait first
            log.warning("archive retention still running at close; its flags may be lost")
        self.writer.close(timeout)

    def __enter__(self) -> ResultsStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
