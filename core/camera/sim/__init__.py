"""The simulated production line: parts on a belt (``line``), drawn by ``render``, with
the synthetic defects of ``defects``. Opened as ``sim:...`` through
:func:`core.camera.open_source`; nothing is imported here.
"""
