"""How the Train page shows the training process's events: messages, the progress bar, the
loss chart, the previews and the "Can it tell?" verdict (split out of app.wizard.train_page)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap

from app.wizard.qtutil import show_message
from core.training.estimate import format_duration
from core.training.runner import FINAL_EVENTS, can_resume
from core.training.separability import verdict

PREVIEWS = (("image", "Good image"), ("augmented", "Synthetic anomaly"), ("mask", "Its mask"),
            ("reconstruction", "Reconstruction"), ("anomaly_map", "Anomaly map M_o"))
# second row: the current model on a held-out good image (M_o should stay dark)
VALIDATION_PREVIEWS = (("val_image", "Validation image"), ("val_reconstruction", "Its reconstruction"),
                       ("val_anomaly_map", "Its M_o"))


def apply_event(page, event: dict) -> None:
    """Show one event of the runner on the Train page ``page``."""
    page.events.append(event)
    kind = event.get("event")
    if kind in FINAL_EVENTS:
        page.live_pause.release("run")
    if kind == "start":
        k = event.get("resumed_from", 0)
        page.plot.keep_steps_until(k)
        show_message(page.message, f"training {event.get('images')} images with preset "
                                   f"{event.get('preset')}" + (f", resumed from step {k}" if k else ""))
    elif kind == "progress":
        show_progress(page, event)
        if event.get("separability"):
            show_separability(page, event["separability"], final=False)
    elif kind == "preview":
        for key, path in event.get("files", {}).items():
            if key in page.previews:
                page.previews[key].setPixmap(QPixmap(path).scaled(
                    128, 128, Qt.AspectRatioMode.KeepAspectRatio))
    elif kind == "done":
        page.ctx.result = event
        show_separability(page, ((event.get("meta") or {}).get("training") or {}).get("separability"),
                          final=True)
        page.bar.setRange(0, 1)
        page.bar.setValue(1)
        int8 = event.get("int8") or {}
        note = int8.get("reason") or int8.get("error") or ""
        show_message(page.message, f"training finished: {event['steps']} steps in "
                                   f"{format_duration(event['seconds'])}. Next: validate."
                                   + (f"\nint8 model for live CPU inspection: {note}." if note else ""))
    elif kind == "status":
        show_message(page.message, f"{event.get('message')}...")
    elif kind == "cancelled":
        show_message(page.message, f"{event.get('message')}. The checkpoint is kept: Resume "
                                   f"continues from it. The active model is unchanged.", error=True)
    elif kind in ("error", "crashed"):
        extra = " Resume continues from the last checkpoint." if can_resume(page.ctx.run_dir) else ""
        show_message(page.message, f"training failed: {event.get('message')}.{extra} "
                                   f"The active model is unchanged.", error=True)


def show_separability(page, result: dict | None, final: bool) -> None:
    separates, why = verdict(result)
    when = "final model" if final else f"at step {result.get('step')}" if result else ""
    colour = "#2e7d32" if separates else "#c62828"
    page.separability_label.setText(f"<span style='color:{colour}'><b>Can it tell?</b> "
                                    f"({when}) {html.escape(why)}</span>")


def show_progress(page, e: dict) -> None:
    step, total = e["step"], e.get("total")
    if total is None:
        page.bar.setRange(0, 0)  # fitting the run to the time budget
    else:
        page.bar.setRange(0, total)
        page.bar.setValue(step)
    eta = e.get("eta_s")
    page.eta_label.setText(f"step {step}/{total if total is not None else '?'}"
                           + (f", {format_duration(eta)} left" if eta is not None else ""))
    page.plot.add_losses(e)
