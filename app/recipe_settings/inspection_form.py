"""The recipe's inspection settings the engineer may change under a deployed model: the
false-reject target used when calibrating and the training defaults the wizard preselects
(model, preset, synthetic anomalies). Choices come from the lists the recipe accepts."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox

from app.wizard.model_choice import HINTS, MODELS, presets_for
from core.recipe import Recipe
from core.recipe.model import ANOMALY_CHOICES, FALSE_REJECT_RANGE

ANOMALY_TEXT = {"defects": "defect-like kinds beside the paper's",
                "paper": "the paper's only (Perlin noise × texture)"}
PCT_DECIMALS = 2


class InspectionForm(QGroupBox):
    changed = Signal()

    def __init__(self, parent=None) -> None:
        super().__init__("Inspection and training defaults", parent)
        self.false_reject = QDoubleSpinBox()
        self.false_reject.setDecimals(PCT_DECIMALS)
        step = 10.0 ** -PCT_DECIMALS  # the range is open at both ends
        lo, hi = FALSE_REJECT_RANGE
        self.false_reject.setRange(100 * lo + step, 100 * hi - step)
        self.false_reject.setSuffix(" %")
        self.false_reject.setToolTip("The share of good parts a new model's calibration may "
                                     "reject: its limits are set for this target")
        self.model = QComboBox()
        for kind, label in MODELS:
            self.model.addItem(label, kind)
        self.preset = QComboBox()
        self.anomalies = QComboBox()
        for kind in ANOMALY_CHOICES:
            self.anomalies.addItem(f"{kind}: {ANOMALY_TEXT.get(kind, kind)}", kind)
        self.anomalies.setToolTip("DRÆM's synthetic anomalies (DSR makes its own)")
        form = QFormLayout(self)
        form.addRow("False-reject target", self.false_reject)
        form.addRow("Model the wizard preselects", self.model)
        form.addRow("Preset", self.preset)
        form.addRow("Synthetic anomalies", self.anomalies)
        self.false_reject.valueChanged.connect(lambda _v: self.changed.emit())
        self.model.currentIndexChanged.connect(lambda _i: self._model_changed())
        self.preset.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.anomalies.currentIndexChanged.connect(lambda _i: self.changed.emit())

    def set_recipe(self, recipe: Recipe) -> None:
        t = recipe.training
        self.false_reject.setValue(100 * recipe.false_reject_target)
        self.model.blockSignals(True)  # the recipe's own preset, not one for the model's change
        self.model.setCurrentIndex(max(0, self.model.findData(t.model)))
        self.model.blockSignals(False)
        self._fill_presets(t.preset)
        self.anomalies.setCurrentIndex(max(0, self.anomalies.findData(t.anomalies)))
        self.anomalies.setEnabled(t.model != "dsr")
        self.changed.emit()

    def _fill_presets(self, keep: str) -> None:
        """The presets of the chosen model; ``keep`` stays chosen (listed even when it is a
        name this version does not know, so that opening the dialog changes nothing)."""
        names = list(presets_for(self.model.currentData()))
        if keep and keep not in names:
            names.append(keep)
        self.preset.blockSignals(True)
        self.preset.clear()
        for name in names:
            hint = HINTS.get(name)
            self.preset.addItem(f"{name}: {hint}" if hint else name, name)
        self.preset.setCurrentIndex(names.index(keep) if keep in names else 0)
        self.preset.blockSignals(False)

    def _model_changed(self) -> None:
        """Another model: its presets, the same name kept where it has one."""
        model, current = self.model.currentData(), self.preset.currentData()
        self._fill_presets(current if current in presets_for(model) else "")
        self.anomalies.setEnabled(model != "dsr")
        self.changed.emit()

    def values(self) -> dict[str, object]:
        return {"false_reject_target": round(self.false_reject.value() / 100, PCT_DECIMALS + 2),
                "training.model": self.model.currentData(),
                "training.preset": self.preset.currentData(),
                "training.anomalies": self.anomalies.currentData()}
