"""The shift report as one self-contained HTML file: inline CSS, the top NG images as small
base64 thumbnails (or, where they cannot be read as images, linked by their file path)."""

from __future__ import annotations

import base64
import html
import logging
import math
import os
from pathlib import Path

from core.atomic import atomic_write_text
from core.shifts.report import ShiftReport
from core.store.results_query import GroupSummary

log = logging.getLogger(__name__)
THUMB_PX = 160

_CSS = """
body{font-family:sans-serif;margin:2em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.4em 0}td,th{border:1px solid #bbb;padding:.2em .6em}
th{background:#eee}td.n{text-align:right}.ng{color:#b00}.muted{color:#777}
.thumbs{display:flex;flex-wrap:wrap;gap:.8em}.thumb{font-size:.8em;text-align:center}
.thumb img{display:block;max-width:160px;border:1px solid #999}
"""


def _e(text: object) -> str:
    return html.escape(str(text))


def _pct(g: GroupSummary | None) -> str:
    return "-" if g is None or math.isnan(g.yield_ratio) else f"{100 * g.yield_ratio:.1f}%"


def _count_table(rows: list[GroupSummary], label: str) -> str:
    if not rows:
        return '<p class="muted">no results</p>'
    out = [f"<table><tr><th>{_e(label)}</th><th>inspected</th><th>OK</th><th>REVIEW</th>"
           "<th>NG</th><th>yield</th></tr>"]
    for g in rows:
        key = g.key if g.key is not None else f"(no {label})"
        out.append(f"<tr><td>{_e(key)}</td><td class=n>{g.total}</td><td class=n>{g.ok}</td>"
                   f"<td class=n>{g.review}</td><td class=n>{g.ng}</td>"
                   f"<td class=n>{_pct(g)}</td></tr>")
    return "".join(out) + "</table>"


def thumbnail_uri(path: Path, px: int = THUMB_PX) -> str | None:
    """A data: URI of a small PNG of ``path``; None when it cannot be read as an image."""
    try:
        import cv2

        img = cv2.imread(os.fspath(path), cv2.IMREAD_COLOR)
        if img is None:
            return None
        h, w = img.shape[:2]
        scale = min(1.0, px / max(h, w))
        if scale < 1.0:
            img = cv2.resize(img, (max(1, int(w * scale)), max(1, int(h * scale))),
                             interpolation=cv2.INTER_AREA)
        ok, buf = cv2.imencode(".png", img)
    except Exception as exc:  # an unreadable file must not stop the report
        log.warning("no thumbnail of %s: %s", path, exc)
        return None
    return "data:image/png;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None


def render_html(r: ShiftReport, *, thumbnails: bool = True) -> str:
    t = r.total
    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{_e(r.title)}</title>"
             f"<style>{_CSS}</style></head><body><h1>{_e(r.title)}</h1>",
             f"<p>{_e(r.local(r.start))} to {_e(r.local(r.end))} ({_e(r.tz)}); generated "
             f"{_e(r.local(r.generated_at))}</p>",
             "<h2>Counts</h2>",
             f"<p>Inspected <b id=inspected>{t.total if t else 0}</b>, OK <b id=ok>{t.ok if t else 0}"
             f"</b>, REVIEW <b id=review>{t.review if t else 0}</b>, NG <b id=ng class=ng>"
             f"{t.ng if t else 0}</b>, yield <b id=yield>{_pct(t)}</b></p>",
             "<h3>By recipe</h3>", _count_table(r.by_recipe, "recipe"),
             "<h3>By lot</h3>", _count_table(r.by_lot, "lot"),
             "<h2>NG by score band</h2>"]
    if r.ng_bands:
        parts.append("<table><tr><th>score</th><th>NG parts</th></tr>" + "".join(
            f"<tr><td>{b.lo:.4g} to {b.hi:.4g}</td><td class=n>{b.count}</td></tr>"
            for b in r.ng_bands) + "</table>")
    else:
        parts.append('<p class="muted">no NG parts</p>')
    parts.append("<h2>Top NG parts</h2>")
    if r.top_ng:
        parts.append("<div class=thumbs>")
        for rec in r.top_ng:
            path = r.images.get(rec.id) if rec.id is not None else None
            uri = thumbnail_uri(path) if path is not None and thumbnails else None
            if uri is not None:
                pic = f"<img src='{uri}' alt='NG part {rec.id}'>"
            elif path is not None:
                pic = f"<a href='{_e(path.resolve().as_uri())}'>{_e(path.name)}</a>"
            else:
                pic = "<span class=muted>(no image)</span>"
            parts.append(f"<div class=thumb>{pic}score {rec.score:.4g}<br>{_e(rec.recipe)}"
                         f"{' lot ' + _e(rec.lot) if rec.lot else ''}<br>"
                         f"{_e(r.local(rec.time))}</div>")
        parts.append("</div>")
    else:
        parts.append('<p class="muted">no NG parts</p>')
    parts.append("<h2>Alarms</h2>")
    if r.alarms:
        parts.append("<table><tr><th>raised</th><th>alarm</th><th>recipe</th><th>cleared</th>"
                     "<th>acknowledged</th></tr>")
        for a in r.alarms:
            ack = f"{r.local(a.acknowledged_at)} by {a.acknowledged_by}" if a.acknowledged else "-"
            parts.append(f"<tr><td>{_e(r.local(a.raised_at))}</td><td>{_e(a.text)}</td>"
                         f"<td>{_e(a.recipe)}</td><td>{_e(r.local(a.cleared_at))}</td>"
                         f"<td>{_e(ack)}</td></tr>")
        parts.append("</table>")
    else:
        parts.append('<p class="muted">no alarms</p>')
    parts.append("</body></html>\n")
    return "".join(parts)


def write_html(report: ShiftReport, out: str | os.PathLike, **kw) -> Path:
    """Write the report atomically; OSError if the file cannot be written."""
    return atomic_write_text(out, render_html(report, **kw))


__all__ = ["render_html", "thumbnail_uri", "write_html"]
