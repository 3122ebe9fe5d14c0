"""The window's non-modal dialogs: bring one to the front, and let a closed one go."""

from __future__ import annotations


def present(dialog):
    """Show ``dialog`` above the window and give it the focus; returns it."""
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def discard(dialog) -> None:
    """Free a closed dialog (None: nothing to free)."""
    if dialog is not None:
        dialog.deleteLater()
