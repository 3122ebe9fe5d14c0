"""Line I/O: what the station tells the machine (reject gate, stack light, PLC) and the
orders it takes from it. The contract (signals, messages, the transport interface) is in
:mod:`core.lineio.contract`; docs/line-io.md documents it for PLC programmers."""
