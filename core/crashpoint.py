"""Test hook: die on the spot, as ``kill -9`` would, at a named point between two writes.

``LINEINSPECTOR_CRASH_AT=switch:after-recipe`` makes the process end abruptly (no cleanup,
no ``finally``) when it reaches ``crash_point("switch:after-recipe")``. Only the tests set
it: they check that what is on disk afterwards is still consistent.
"""

from __future__ import annotations

import os
import signal

ENV_VAR = "LINEINSPECTOR_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV_VAR) != name:
        return
    if hasattr(signal, "SIGKILL"):
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(137)  # pragma: no cover - where there is no SIGKILL
