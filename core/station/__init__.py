"""The headless station (``lineinspect station``): inspection with line I/O and no window."""
