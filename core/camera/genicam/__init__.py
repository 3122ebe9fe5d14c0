"""GenICam cameras through harvesters: the source (``source``), its feature nodes
(``nodes``), the shared Harvester (``harvester_hub``), GenTL producer discovery and checks
(``producers``, ``producer_check``) and pixel-format conversion (``pixelformats``).

Nothing is imported here, so that the rest of the camera package loads without harvesters;
:func:`core.camera.open_source` imports these modules when a ``genicam:`` source is opened.
"""
