"""One shared harvesters ``Harvester`` per process, guarded so that ``update()``
never runs while any device acquirer exists (``update()`` would invalidate it).

Tests pass ``harvester_factory`` to substitute a fake harvesters layer.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from core.camera.base import DeviceInfo
from core.camera.errors import CameraError
from core.camera.genicam.producers import ProducerReport, find_producers, load_producers

_log = logging.getLogger(__name__)


def _attr(obj: Any, name: str) -> Any:
    """Read a harvesters/GenTL attribute that may raise when not available."""
    try:
        value = getattr(obj, name)
    except Exception:
        return None
    return None if value in ("", None) else value


def _default_factory() -> Any:
    from harvesters.core import Harvester

    return Harvester()


class HarvesterHub:
    """Owns the Harvester, the producer list and the set of live image acquirers."""

    def __init__(
        self,
        extra_paths: Iterable[str | os.PathLike[str]] = (),
        *,
        include_bundled: bool = True,
        harvester_factory: Callable[[], Any] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self._extra_paths = list(extra_paths)
        self._include_bundled = include_bundled
        self._factory = harvester_factory or _default_factory
        self._env = env
        self._lock = threading.RLock()
        self._harvester: Any = None
        self._active: list[Any] = []
        self.report = ProducerReport()

    # -- set-up -------------------------------------------------------------------------
    def _ensure(self) -> Any:
        if self._harvester is None:
            busy = self._evict_other_hubs()
            report = ProducerReport()
            paths = find_producers(
                self._extra_paths, env=self._env, include_bundled=self._include_bundled,
                report=report,
            )
            harvester = self._factory()
            load_producers(harvester, paths, report)
            for problem in report.problems():
                _log.warning("%s", problem)
            self.report = report
            harvester.update()
            self._harvester = harvester
            _live_hubs.add(self)
            if busy:
                report.failed.append((Path("<other hub>"), f"{busy} device(s) held by another HarvesterHub "
                                      "may be missing (GenTL producers are process-wide)"))
        return self._harvester

    def _evict_other_hubs(self) -> int:
        """A GenTL producer is process-wide: a second Harvester sees no devices while
        another holds it. Idle hubs are reset; returns how many devices busy hubs hold."""
        busy = 0
        for other in list(_live_hubs):
            if other is self:
                continue
            if other.active_count:
                busy += other.active_count
            else:
                other.reset()
        return busy

    @property
    def active_count(self) -> int:
        with self._lock:
            return len(self._active)

    def refresh(self) -> bool:
        """Re-enumerate devices; refused (returns False) while any acquirer exists."""
        with self._lock:
            first = self._harvester is None
            harvester = self._ensure()  # the first use enumerates already
            if self._active:
                return False
            if not first:
                harvester.update()
            return True

    # -- discovery ------------------------------------------------------------------------
    def devices(self, refresh: bool = True) -> list[DeviceInfo]:
        """GenICam devices; the list is the last enumeration while devices are open."""
        with self._lock:
            if refresh:
                self.refresh()
            harvester = self._ensure()
            return [self._to_info(d) for d in harvester.device_info_list]

    @staticmethod
    def _to_info(info: Any) -> DeviceInfo:
        serial = _attr(info, "serial_number")
        dev_id = str(_attr(info, "id_") or serial or "?")
        return DeviceInfo(
            kind="genicam",
            id=dev_id,
            serial=None if serial is None else str(serial),
            model=str(_attr(info, "model") or ""),
            vendor=str(_attr(info, "vendor") or ""),
            description=str(_attr(info, "display_name") or _attr(info, "tl_type") or ""),
        )

    def _find(self, key: str | None) -> int | None:
        infos = self._harvester.device_info_list
        if not infos:
            return None
        if key in (None, ""):
            return 0
        for attr in ("serial_number", "id_", "user_defined_name"):
            for index, info in enumerate(infos):
                if str(_attr(info, attr)) == key:
                    return index
        return None

    # -- acquirers ------------------------------------------------------------------------
    def create(self, key: str | None) -> tuple[Any, DeviceInfo]:
        """Image acquirer and device info for serial or id ``key`` (None: the first device)."""
        with self._lock:
            self.refresh()  # a device that came back is only seen after re-enumeration
            index = self._find(key)
            if index is None:
                known = ", ".join(d.spec for d in self.devices(refresh=False)) or "none"
                problems = "; ".join(self.report.problems())
                hint = f" (producer problems: {problems})" if problems else ""
                raise CameraError(
                    f"no GenICam device with serial or id {key!r}; available: {known}{hint}"
                )
            try:
                acquirer = self._harvester.create(index)
            except Exception as exc:
                raise CameraError(f"cannot open GenICam device {key!r}: {exc}") from exc
            self._active.append(acquirer)
            return acquirer, self._to_info(self._harvester.device_info_list[index])

    def release(self, acquirer: Any) -> None:
        """Stop and destroy an acquirer; errors are logged, the device is forgotten anyway."""
        with self._lock:
            if acquirer in self._active:
                self._active.remove(acquirer)
        for step in ("stop", "destroy"):
            try:
                getattr(acquirer, step)()
            except Exception as exc:
                _log.warning("GenICam %s failed while releasing: %s", step, exc)

    def reset(self) -> None:
        """Drop the Harvester (producers are re-read on next use). Needs no open devices."""
        with self._lock:
            if self._active:
                raise CameraError(f"cannot reset GenICam while {len(self._active)} device(s) open")
            if self._harvester is not None:
                try:
                    self._harvester.reset()
                finally:
                    self._harvester = None
                    _live_hubs.discard(self)

    def configure(self, extra_paths: Iterable[str | os.PathLike[str]], include_bundled: bool = True) -> None:
        """Change the settings' producer paths; takes effect at the next enumeration."""
        with self._lock:
            self.reset()
            self._extra_paths = list(extra_paths)
            self._include_bundled = include_bundled


_live_hubs: weakref.WeakSet[HarvesterHub] = weakref.WeakSet()
_default_hub: HarvesterHub | None = None
_default_lock = threading.Lock()


def default_hub() -> HarvesterHub:
    """The process-wide hub used by ``genicam:`` sources and discovery."""
    global _default_hub
    with _default_lock:
        if _default_hub is None:
            _default_hub = HarvesterHub()
        return _default_hub


def set_default_hub(hub: HarvesterHub | None) -> HarvesterHub | None:
    """Replace the process-wide hub (tests, or settings with other producer paths).
    The previous hub keeps working but releases the producers to whichever hub
    enumerates next (see ``_evict_other_hubs``)."""
    global _default_hub
    with _default_lock:
        previous, _default_hub = _default_hub, hub
    return previous
