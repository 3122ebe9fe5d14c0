"""The audit trail in the window: the "Audit trail…" dialog (entries, filters, chain
verification, CSV export); everything that reads the database runs off the GUI thread."""
