"""The station's line configuration as the page edits it (plain values: a mapping dict and a
list of transport dicts) and back; turning it back is where it is judged, by the line
configuration's own checks, so the page refuses what line_io.toml would."""

from __future__ import annotations

DEFAULT_MAPPING = {"review_as": "ng", "deadline_ms": 0, "fail_safe": "reject", "heartbeat_ms": 1000}


def form_of(config) -> dict:
    """``{"mapping": {...}, "transports": [{"kind", "enabled", "options"}, ...]}`` of a
    LineConfig (None: the defaults, no transport)."""
    if config is None:
        return {"mapping": dict(DEFAULT_MAPPING), "transports": []}
    m = config.mapping
    return {"mapping": {k: getattr(m, k) for k in DEFAULT_MAPPING},
            "transports": [{"kind": t.kind, "enabled": t.enabled, "options": dict(t.options)}
                           for t in config.transports]}


def config_of(form: dict):
    """The LineConfig of ``form``; LineConfigError names the first field that cannot be used."""
    from core.lineio.config import LineConfig, Mapping, TransportConfig

    mapping = Mapping(**form["mapping"])
    transports = [TransportConfig(kind=t["kind"], enabled=t["enabled"], options=dict(t["options"]))
                  for t in form["transports"]]
    return LineConfig(mapping=mapping, transports=transports)
