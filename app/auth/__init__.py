"""Roles in the window: sign-in and first-start dialogs, the users dialog, the one gate every
engineering action asks, the operator kiosk and the confirmations (see docs/station-admin.md)."""
