"""The Line I/O page (configure the station's links to the line, watch every signal live,
commission by hand) and the operator's link indicator. Presentation only: the line interface
itself lives in :mod:`core.lineio`, owned by :class:`app.workers.line_control.LineControl`."""
