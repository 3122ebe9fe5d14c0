"""Source kinds, discovery and SOURCE strings.

SOURCE forms::

    sim                          simulated line, defaults
    sim:seed=3,fps=20,width=320  simulated line with options (see SimLineConfig)
    /path/to/folder              replay of a folder of images (fps=10)
    /path/to/video.mp4           replay of a video (its own fps)
    /path/to/folder?fps=5,loop=0 replay with options (also folder:PATH / video:PATH)
    genicam:SERIAL-OR-ID         GenICam device; ``genicam`` alone: the first one
    genicam:SERIAL,exposure=5000,pixel_format=Mono8   ...with features set on open

Options that name a Feature (exposure, gain, frame_rate, width, height, offset_x,
offset_y, pixel_format, trigger_mode, trigger_source) are applied with
``set_feature`` right after opening, for every kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.camera.base import CameraSource, DeviceInfo, Feature
from core.camera.errors import CameraError, SourceSpecError

SourceFactory = Callable[[str, dict[str, Any]], CameraSource]
Discoverer = Callable[[list[str]], list[DeviceInfo]]


@dataclass(frozen=True, slots=True)
class SourceKind:
    name: str
    factory: SourceFactory  # (target, options) -> unopened source; must consume its options
    discover: Discoverer | None = None  # (problems) -> devices
    description: str = ""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    kind: str
    target: str = ""
    options: dict[str, Any] = field(default_factory=dict)


_KINDS: dict[str, SourceKind] = {}
_FEATURE_OPTIONS = {f.value for f in Feature} - {Feature.SOFTWARE_TRIGGER.value, Feature.DIGITAL_OUTPUT.value}


def register_kind(kind: SourceKind) -> None:
    """Add (or replace) a source kind; its name becomes a SOURCE prefix."""
    if len(kind.name) < 2 or not kind.name.isidentifier():
        raise ValueError(f"source kind name {kind.name!r} must be an identifier of 2+ characters")
    _KINDS[kind.name] = kind


def source_kinds() -> list[str]:
    return list(_KINDS)


def _parse_options(text: str, what: str) -> tuple[str, dict[str, str]]:
    target, options = "", {}
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        key, eq, value = token.partition("=")
        if eq:
            options[key.strip()] = value.strip()
        elif target:
            raise SourceSpecError(f"{what}: more than one target ({target!r}, {token!r})")
        else:
            target = token
    return target, options


def _path_kind(path: Path) -> str:
    from core.camera.replay import VIDEO_EXTENSIONS

    if path.is_dir():
        return "folder"
    if path.suffix.lower() in VIDEO_EXTENSIONS:
        return "video"
    raise SourceSpecError(f"SOURCE '{path}' is a file but not a video ({', '.join(VIDEO_EXTENSIONS)})")


def parse_spec(spec: str) -> SourceSpec:
    """Split a SOURCE string into kind, target and options (nothing is opened)."""
    text = str(spec).strip()
    if not text:
        raise SourceSpecError("empty SOURCE (use sim, a folder, a video file or genicam:<serial>)")
    path = Path(text).expanduser()
    if path.exists():
        return SourceSpec(_path_kind(path), str(path))
    head, colon, rest = text.partition(":")
    if head in _KINDS:
        if head in ("folder", "video"):
            where, _, opts = rest.partition("?")
            return SourceSpec(head, str(Path(where).expanduser()), _parse_options(opts, text)[1])
        target, options = _parse_options(rest, text)
        return SourceSpec(head, target, options)
    where, question, opts = text.partition("?")
    if question and Path(where).expanduser().exists():
        path = Path(where).expanduser()
        return SourceSpec(_path_kind(path), str(path), _parse_options(opts, text)[1])
    raise SourceSpecError(
        f"cannot understand SOURCE {text!r}: not an existing folder or video file, and not "
        f"one of {', '.join(k + ':...' for k in _KINDS)}"
    )


def open_source(spec: str, **options: Any) -> CameraSource:
    """Create and open the source named by ``spec``; keyword options override spec options."""
    parsed = parse_spec(spec)
    merged = {**parsed.options, **options}
    native = {"width", "height"} if parsed.kind == "sim" else set()  # sim config fields
    features = {k: merged.pop(k) for k in list(merged) if k in _FEATURE_OPTIONS - native}
    source = _KINDS[parsed.kind].factory(parsed.target, merged)
    try:
        source.open()
        for name, value in features.items():
            source.set_feature(name, value)
    except BaseException:
        source.close()
        raise
    return source


def discover_all(problems: list[str] | None = None) -> list[DeviceInfo]:
    """Devices of every discoverable kind. Problems (a producer that failed to load,
    a kind whose discovery raised) are appended to ``problems`` instead of raising."""
    problems = problems if problems is not None else []
    devices: list[DeviceInfo] = []
    for kind in _KINDS.values():
        if kind.discover is None:
            continue
        try:
            devices += kind.discover(problems)
        except Exception as exc:  # one broken kind must not hide the others
            problems.append(f"{kind.name}: discovery failed: {exc}")
    return devices


# -- built-in kinds -------------------------------------------------------------------------
def _flag(options: dict[str, Any], key: str, default: bool) -> bool:
    raw = options.pop(key, default)
    return raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")


def _number(options: dict[str, Any], key: str, default: float | None) -> float | None:
    raw = options.pop(key, default)
    try:
        return None if raw is None else float(raw)
    except (TypeError, ValueError):
        raise SourceSpecError(f"option {key}={raw!r} is not a number") from None


def _no_leftovers(kind: str, options: dict[str, Any]) -> None:
    if options:
        raise SourceSpecError(f"unknown {kind} option(s): {', '.join(sorted(options))}")


def _sim(target: str, options: dict[str, Any]) -> CameraSource:
    from core.camera.sim.line import SimLineConfig, SimLineSource

    if target:
        raise SourceSpecError(f"sim takes key=value options only, got {target!r}")
    try:
        return SimLineSource(SimLineConfig.from_options(dict(options)))
    except ValueError as exc:
        raise SourceSpecError(str(exc)) from None


def _folder(target: str, options: dict[str, Any]) -> CameraSource:
    from core.camera.replay import DEFAULT_FOLDER_FPS, FolderReplaySource

    fps, loop = _number(options, "fps", DEFAULT_FOLDER_FPS), _flag(options, "loop", True)
    recursive = _flag(options, "recursive", False)
    _no_leftovers("folder", options)
    return FolderReplaySource(target, fps=fps or 0.0, loop=loop, recursive=recursive)


def _video(target: str, options: dict[str, Any]) -> CameraSource:
    from core.camera.replay import VideoReplaySource

    fps, loop = _number(options, "fps", None), _flag(options, "loop", True)
    _no_leftovers("video", options)
    return VideoReplaySource(target, fps=fps, loop=loop)


def _genicam(target: str, options: dict[str, Any]) -> CameraSource:
    from core.camera.genicam.source import GenICamSource

    key = target or options.pop("serial", None) or options.pop("id", None)
    _no_leftovers("genicam", options)
    return GenICamSource(key)


def _discover_sim(problems: list[str]) -> list[DeviceInfo]:
    from core.camera.sim.line import sim_device_info

    return [sim_device_info()]


def _discover_genicam(problems: list[str]) -> list[DeviceInfo]:
    try:
        from core.camera.genicam.source import discover_genicam
    except ImportError as exc:  # harvesters missing: report, do not crash
        raise CameraError(f"harvesters is not installed ({exc})") from None
    return discover_genicam(problems=problems)


register_kind(SourceKind("sim", _sim, _discover_sim, "simulated production line"))
register_kind(SourceKind("folder", _folder, None, "replay of a folder of images"))
register_kind(SourceKind("video", _video, None, "replay of a video file"))
register_kind(SourceKind("genicam", _genicam, _discover_genicam, "GenICam camera via harvesters"))
