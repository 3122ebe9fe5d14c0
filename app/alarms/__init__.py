"""The alarms in the window: core.alarms.StationAlarms wired to the session controller
(ticked off the inspection thread) and the banner the operator acknowledges."""
