"""Step 5, Validate: held-out good images and, optionally, known defects: histogram, ROC,
proposed OK/NG limits, worst-scoring good images and hardest defects with heat maps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel,
                               QPushButton, QVBoxLayout, QWizardPage)

from app.wizard.context import WizardContext
from app.wizard.qtutil import message_label, show_message, to_pixmap
from app.workers.background import Background
from core.display import render_overlay
from core.evaluation.datasets import TRAINED_ON
from core.evaluation.marked import check_marked
from core.evaluation.validation import ValidationResult, defect_samples, validate

TILE = 112


def _hist_curve(plot: pg.PlotWidget, scores: list[float], edges: np.ndarray, color: str, name: str):
    counts, _ = np.histogram(scores, bins=edges)
    brush = pg.mkBrush(_translucent(color))
    plot.plot(edges, counts, stepMode="center", fillLevel=0, brush=brush,
              pen=pg.mkPen(color, width=2), name=f"{name} ({len(scores)})")


LIMIT_LABELS = (("ok_limit", "#f9a825", "OK limit", 0.95), ("ng_limit", "#c62828", "NG limit", 0.84))
HEADROOM = 1.45  # the y axis reaches this many times the tallest bar: the limit labels sit above


def score_histogram(plot: pg.PlotWidget, good: list[float], bad: list[float], t: dict) -> None:
    """Histogram of good (and defective) image scores with the proposed limits: the axis reads
    plain scores (no "x0.001" scaling, however narrow the range) and the limits' labels sit in
    head-room above the bars."""
    lo, hi = min(good + bad + [t["ok_limit"]]), max(good + bad + [t["ng_limit"]])
    pad = max(1e-6, 0.05 * (hi - lo))
    edges = np.linspace(lo - pad, hi + pad, 31)
    plot.clear()
    item = plot.getPlotItem()
    item.getAxis("bottom").enableAutoSIPrefix(False)
    tallest = 1
    for scores, color, name in ((good, "#2e7d32", "good"), (bad, "#c62828", "defective")):
        if scores:
            _hist_curve(plot, scores, edges, color, name)
            tallest = max(tallest, int(np.histogram(scores, bins=edges)[0].max()))
    plot.setXRange(float(edges[0]), float(edges[-1]), padding=0.0)
    plot.setYRange(0, HEADROOM * tallest, padding=0.0)
    for key, color, label, pos in LIMIT_LABELS:
        pen = pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine)
        plot.addItem(pg.InfiniteLine(t[key], angle=90, pen=pen, label=label,
                                     labelOpts={"position": pos, "color": color,
                                                "anchors": [(0, 0), (0, 0)]}))


def _translucent(color: str):
    c = pg.mkColor(color)
    c.setAlpha(90)
    return c


class ValidatePage(QWizardPage):
    def __init__(self, ctx: WizardContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setTitle("5. Validate")
        self.setSubTitle("Scores of the held-out good images; add a folder of known defective "
                         "images (masks optional, in masks/) to see the ROC and separation.")
        self.background = Background("validation", self)
        self.result: ValidationResult | None = None
        self.defect_folder: Path | None = None
        self.hist = pg.PlotWidget(title="Image scores")
        self.roc = pg.PlotWidget(title="ROC")
        for p in (self.hist, self.roc):
            p.setBackground("w")
        self.hist.addLegend(offset=(10, 10))
        self.hist.setLabel("bottom", "score")
        self.roc.setLabel("bottom", "false positive rate")
        self.roc.setLabel("left", "true positive rate")
        self.roc.setXRange(0, 1)
        self.roc.setYRange(0, 1)
        self.limits_label = QLabel("")
        self.limits_label.setStyleSheet("font-size: 12pt; font-weight: bold;")
        self.defect_button = QPushButton("Add defective images…")
        # the parts an engineer marked in the reject gallery (confirmed defects, false rejects)
        self.use_marked = QCheckBox("Also validate on the marked parts of this recipe", checked=True)
        self.marked_label = QLabel("", wordWrap=True)
        self.gallery = QGridLayout()
        self.message = message_label()
        plots = QHBoxLayout()
        plots.addWidget(self.hist, 3)
        plots.addWidget(self.roc, 2)
        row = QHBoxLayout()
        row.addWidget(self.limits_label, 1)
        row.addWidget(self.defect_button)
        col = QVBoxLayout(self)
        col.addLayout(plots, 1)
        col.addLayout(row)
        col.addWidget(self.use_marked)
        col.addWidget(self.marked_label)
        col.addLayout(self.gallery)
        col.addWidget(self.message)
        self.defect_button.clicked.connect(self._ask_defects)
        self.use_marked.toggled.connect(lambda _on: self.run())

    def initializePage(self) -> None:
        self.result = None
        self.run()

    def _ask_defects(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Folder of known defective images")
        if folder:
            self.set_defect_folder(Path(folder))

    def set_defect_folder(self, folder: Path | None) -> None:
        self.defect_folder = folder
        self.run()

    def run(self) -> None:
        """Score off the GUI thread (the model runs here, in inference mode only)."""
        from core.inference.load import load_model

        ctx, folder = self.ctx, self.defect_folder
        marked_of = ctx.recipe_name if self.use_marked.isChecked() else ""
        if ctx.bundle is None or self.background.busy:
            return
        holdout = [Path(p) for p in ctx.result.get("holdout", [])]
        if not holdout:  # too few to hold out: the pipeline calibrated on training images
            holdout = ctx.samples().paths()

        def work():
            inf = load_model(ctx.bundle, "reference", ctx.device)
            defects = defect_samples(folder) if folder else None
            result = validate(inf, holdout, defects, false_reject=ctx.false_reject, roi=ctx.roi,
                              preprocessing=ctx.preprocessing)
            marked = check_marked(inf, ctx.store.data_dir, marked_of, result.thresholds,
                                  roi=ctx.roi, preprocessing=ctx.preprocessing) if marked_of else None
            return result, marked

        show_message(self.message, "scoring validation images…")
        self.completeChanged.emit()
        self.background.submit(work, done=self._done)

    def _done(self, out, error: str | None) -> None:
        if error:
            if self.defect_folder is not None:  # keep validating without the bad folder
                error += f" (defect folder {self.defect_folder} ignored)"
                self.defect_folder = None
            show_message(self.message, f"validation failed: {error}", error=True)
            self.completeChanged.emit()
            return
        result, marked = out
        self.result = result
        self.ctx.validation = result.summary()
        self.marked_label.setText("" if marked is None else marked.text())
        if marked is not None and (marked.defects or marked.false_rejects):
            self.ctx.validation["marked"] = marked.summary()
        self._plot(result)
        trained = sum(1 for _, why in result.skipped if why == TRAINED_ON)
        unreadable = len(result.skipped) - trained
        note = (f"; skipped {unreadable} unreadable file(s)" if unreadable else "") + \
               (f"; left out {trained} defect image(s) used to train this model" if trained else "")
        show_message(self.message, f"validated on {len(result.good)} held-out good image(s) and "
                                   f"{len(result.defects)} defective image(s){note}")
        self.completeChanged.emit()

    def _plot(self, r: ValidationResult) -> None:
        t = r.thresholds
        score_histogram(self.hist, [s.score for s in r.good], [s.score for s in r.defects], t.to_dict())
        self.roc.clear()
        self.roc.plot([0, 1], [0, 1], pen=pg.mkPen("#9e9e9e", style=Qt.PenStyle.DotLine))
        if r.roc is not None:
            self.roc.plot(r.roc[0], r.roc[1], pen=pg.mkPen("#1565c0", width=2))
            self.roc.setTitle(f"ROC, AUROC = {r.auroc:.3f}")
        else:
            self.roc.setTitle("ROC: add defective images to see it")
        text = (f"Proposed limits (false-reject target {100 * self.ctx.false_reject:g} %): "
                f"OK below {t.ok_limit:.4f}, NG from {t.ng_limit:.4f}")
        if r.auroc is not None:
            text += f"   AUROC {r.auroc:.3f}"
        if r.pixel_auroc is not None:
            text += f", pixel AUROC {r.pixel_auroc:.3f}"
        self.limits_label.setText(text)
        self._gallery(r)

    def _gallery(self, r: ValidationResult) -> None:
        while self.gallery.count():
            w = self.gallery.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        pixel = r.thresholds.pixel
        rows = (("Worst good", r.worst_good()), ("Hardest defects", r.hardest_defects()))
        for row, (title, items) in enumerate(rows):
            if not items:
                continue
            self.gallery.addWidget(QLabel(f"<b>{title}</b>"), row, 0)
            for i, s in enumerate(items):
                tile = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
                tile.setPixmap(to_pixmap(render_overlay(s.image, s.anomaly_map, 0.45, pixel), TILE))
                tile.setToolTip(f"{s.path.name}: score {s.score:.4f}")
                caption = QLabel(f"{s.score:.3f}", alignment=Qt.AlignmentFlag.AlignCenter)
                box = QVBoxLayout()
                box.addWidget(tile)
                box.addWidget(caption)
                holder = QLabel()
                holder.setLayout(box)
                holder.setMinimumSize(TILE + 8, TILE + 28)
                self.gallery.addWidget(holder, row, i + 1)

    def isComplete(self) -> bool:
        return self.result is not None and not self.background.busy
