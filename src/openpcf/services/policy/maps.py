"""The three map views of China, as SVG: policy status, certification coverage, grid factors."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.orm import Session

from openpcf.domain.regions import PROVINCES
from openpcf.io.china_map import Shade, svg
from openpcf.services.errors import InvalidRequest
from openpcf.services.policy import regions

NO_DATA = "#e2e6ec"
POLICY_COLOURS = {regions.NONE: NO_DATA, regions.DRAFT: "#f3c969", regions.ISSUED: "#2f8f6f"}
# Sequential greens for counts and a light-to-dark ramp for grid factors (ColorBrewer YlOrRd 5).
COUNT_RAMP = ("#c7e9c0", "#74c476", "#31a354", "#006d2c")
FACTOR_RAMP = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
_WORDS = {
    "zh": {
        "none": "无政策",
        "draft": "征求意见稿",
        "issued": "已发布",
        "no data": "无数据",
        "policy": "各省产品碳足迹政策",
        "certification": "各省已发布的认证证书",
        "grid": "{year} 年各省电网排放因子 (kg CO2/kWh)",
        "inset": "南海诸岛",
        "certificates": "{n} 张证书",
        "documents": "已发布 {i} · 征求意见 {d}",
    },
    "en": {
        "none": "no policy",
        "draft": "draft for comment",
        "issued": "issued",
        "no data": "no data",
        "policy": "Provincial product carbon-footprint policies",
        "certification": "Published certificates by province",
        "grid": "Grid emission factor by province, {year} (kg CO2/kWh)",
        "inset": "South China Sea Islands",
        "certificates": "{n} certificates",
        "documents": "issued {i} · drafts {d}",
    },
}


class MapView(StrEnum):
    policy = "policy"
    certification = "certification"
    grid = "grid"


def map_svg(session: Session, view: MapView, lang: str = "en", year: int | None = None) -> str:
    w = _WORDS["zh" if lang == "zh" else "en"]
    names = {p.code: p.name(lang) for p in PROVINCES}
    href = {p.code: f"/tracker/regions/{p.code}" for p in PROVINCES}
    if view is MapView.policy:
        states = regions.policy_states(session)
        shades = {
            c: Shade(
                POLICY_COLOURS[s.state],
                names[c],
                f"{names[c]}: {w[s.state]} ({w['documents'].format(i=s.issued, d=s.drafts)})",
                href[c],
            )
            for c, s in states.items()
        }
        legend = [(POLICY_COLOURS[k], w[k]) for k in (regions.ISSUED, regions.DRAFT, regions.NONE)]
        return svg(shades, w["policy"], legend, w["inset"])
    if view is MapView.certification:
        counts = regions.certified_by_province(session)
        top = max((counts.get(p.code, 0) for p in PROVINCES), default=0)
        shades = {}
        for p in PROVINCES:
            n = counts.get(p.code, 0)
            colour = NO_DATA if n == 0 else COUNT_RAMP[min(3, (4 * n - 1) // max(top, 1))]
            tip = f"{names[p.code]}: {w['certificates'].format(n=n)}"
            shades[p.code] = Shade(
                colour, f"{names[p.code]} {n}" if n else names[p.code], tip, href[p.code]
            )
        legend = [(NO_DATA, w["certificates"].format(n=0)), (COUNT_RAMP[-1], f"{top}")]
        return svg(shades, w["certification"], legend, w["inset"])
    years = regions.grid_years()
    if year is None:
        year = years[-1]
    if year not in years:
        raise InvalidRequest(
            f"year: no grid factors for {year}; published years: {', '.join(map(str, years))}"
        )
    values = regions.grid_map(year)
    lo, hi = min(values.values()), max(values.values())
    shades = {}
    for p in PROVINCES:
        v = values.get(p.code)
        if v is None:
            shades[p.code] = Shade(
                NO_DATA, names[p.code], f"{names[p.code]}: {w['no data']}", href[p.code]
            )
            continue
        step = 0 if hi == lo else min(4, int(5 * (v - lo) / (hi - lo)))
        shades[p.code] = Shade(
            FACTOR_RAMP[step], names[p.code], f"{names[p.code]}: {v:.4f}", href[p.code]
        )
    legend = [
        (FACTOR_RAMP[0], f"{lo:.4f}"),
        (FACTOR_RAMP[-1], f"{hi:.4f}"),
        (NO_DATA, w["no data"]),
    ]
    return svg(shades, w["grid"].format(year=year), legend, w["inset"])
