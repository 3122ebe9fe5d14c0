"""The Train page's side of sharing the machine with live inspection (see
:mod:`core.training.share`): on a CPU the live window's inspection is paused while the probe
measures or the run trains, and resumed after; a label says so before and while it happens."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from core.training.share import CpuClaims, TrainingShare, plan_share


def training_on_cuda(device: str) -> bool:
    from core.device import select_device

    try:
        return select_device(device).type == "cuda"
    except ValueError:  # a device that is not there: the run will say so
        return False


class LivePause:
    def __init__(self, label: QLabel) -> None:
        self.label = label
        self.live = None
        self.share = TrainingShare(threads=None, pause_live=False)
        self.claims = CpuClaims(self._pause, self._resume)
        self.paused = False
        self._what = ""

    def configure(self, live, device: str) -> TrainingShare:
        """For the wizard's live inspection handle (None: no live window) and device."""
        self.live = live
        self.share = plan_share(cuda=training_on_cuda(device))
        self._show()
        return self.share

    @property
    def applies(self) -> bool:
        """True when measuring or training would pause live inspection now."""
        return self.paused or (self.share.pause_live and self.live is not None
                               and self.live.describe() is not None)

    def _cores(self) -> str:
        n = self.share.threads
        return f"the {n} CPU core{'s' if n != 1 else ''}" if n else "the CPU"

    def _show(self) -> None:
        if self.paused:
            text = (f"<b>Live inspection ({self._what}) is paused</b> while this machine measures or "
                    f"trains; it resumes when that ends.")
        elif self.applies:
            text = (f"Measuring (a few seconds) and training pause live inspection "
                    f"({self.live.describe()}): training gets {self._cores()}, sharing them would slow "
                    f"both several-fold. It resumes when training ends.")
        else:
            text = ""
        self.label.setText(text)
        self.label.setVisible(bool(text))

    def _pause(self, why: str) -> None:
        if not self.applies or self.paused:
            return
        self._what = self.live.describe() or ""
        self.paused = True
        self.live.pause(why)
        self._show()

    def _resume(self) -> None:
        if self.paused:
            self.paused = False
            self.live.resume()
        self._show()

    def claim(self, who: str, why: str) -> None:
        self.claims.claim(who, why)

    def release(self, who: str) -> None:
        self.claims.release(who)

    def release_all(self) -> None:
        self.claims.release_all()
