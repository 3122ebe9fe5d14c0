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


def toml_of(form: dict) -> dict:
    """``form`` in line_io.toml's shape: a [mapping] table and a [[transport]] array whose
    tables hold kind, enabled and the transport's own options side by side."""
    return {"mapping": dict(form["mapping"]),
            "transport": [{"kind": t["kind"], "enabled": t["enabled"], **t["options"]}
                          for t in form["transports"]]}


def config_of(form: dict):
    """The LineConfig of ``form``, read the way line_io.toml is read (LineConfigError names
    the first field that cannot be used)."""
    from core.lineio import config as line_config

    from_dict = getattr(line_config.LineConfig, "from_dict", None) or getattr(line_config, "from_dict", None)
    if from_dict is not None:
        return from_dict(toml_of(form))
    mapping = line_config.Mapping(**form["mapping"])
    transports = tuple(line_config.TransportConfig(kind=t["kind"], options=dict(t["options"]),
                                                   enabled=t["enabled"]) for t in form["transports"])
    return line_config.LineConfig(mapping=mapping, transports=transports)
