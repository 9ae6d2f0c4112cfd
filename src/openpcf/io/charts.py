"""Charts of a footprint result as self-contained SVG: no JavaScript, so the same drawing appears
in the PDF report, the HTML report and the web pages.

Every function is pure: a `Result` (and the words to print, `ChartLabels`) in, an SVG string out.
Each chart carries `<title>`/`<desc>` for screen readers and prints its numbers as text beside the
marks, so it reads in black and white and at print size. Colours follow one palette: a stage, a
gas or an origin has the same colour in every chart.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape

from openpcf.domain.result import Result

FONT = (
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "'Helvetica Neue',Arial,sans-serif"
)
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
OTHER = "#a3acb9"
TOTAL = "#1d4f3b"
STAGE_ORDER = ("raw-materials", "production", "distribution", "use", "end-of-life")
STAGE_COLOURS = {
    "raw-materials": "#2f6b4f",
    "production": "#3d9a7e",
    "distribution": "#7cc3a3",
    "use": "#e0a458",
    "end-of-life": "#8c6d62",
}
GAS_COLOURS = {"CO2": "#2f6b4f", "CH4": "#d98e04", "N2O": "#7b5ea7", "CO2e": OTHER}
ORIGIN_COLOURS = {"fossil": "#3e4c59", "biogenic": "#3d9a7e", "land-use": "#b7791f"}
_EXTRA_COLOURS = ("#c05a4a", "#4a7fb0", "#9c6ade", "#5f9ea0", "#d4a017")


@dataclass(frozen=True)
class ChartLabels:
    """The words a chart prints, in one language; `chart_labels(lang)` gives en or zh."""

    unit: str = "kg CO2e"
    total: str = "Total"
    other: str = "Other"
    other_inputs: str = "other inputs"
    adjustment: str = "Not in a stage"
    stages: Mapping[str, str] = field(default_factory=dict)
    gases: Mapping[str, str] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)
    dq: Mapping[str, str] = field(default_factory=dict)
    dq_scale: tuple[str, str] = ("very good", "very poor")
    dq_coverage: str = "ratings cover {share} of the footprint"
    titles: Mapping[str, str] = field(default_factory=dict)
    no_data: str = "No data"
    credits_not_drawn: str = "negative contributions (credits) not drawn: {value}"

    def stage(self, key: str) -> str:
        return self.stages.get(key, key)

    def gas(self, key: str) -> str:
        return self.gases.get(key, key)

    def title(self, key: str) -> str:
        return self.titles.get(key, key)


LABELS_EN = ChartLabels(
    stages={
        "raw-materials": "Raw materials",
        "production": "Production",
        "distribution": "Distribution",
        "use": "Use",
        "end-of-life": "End of life",
    },
    gases={"CO2e": "CO2e, not split by gas"},
    origins={"fossil": "Fossil", "biogenic": "Biogenic", "land-use": "Land-use change"},
    dq={
        "rating": "Overall",
        "technological": "Technological",
        "geographical": "Geographical",
        "temporal": "Temporal",
        "completeness": "Completeness",
        "reliability": "Reliability",
    },
    titles={
        "stages": "Footprint by life-cycle stage",
        "inputs": "Hotspots: largest inputs",
        "waterfall": "Life cycle, stage by stage to the total",
        "sankey": "Flow from inputs through stages to the total",
        "gases": "Footprint by greenhouse gas",
        "origins": "Fossil, biogenic and land-use change",
        "data_quality": "Data-quality ratings (1 very good, 5 very poor)",
    },
)

LABELS_ZH = ChartLabels(
    total="合计",
    other="其他",
    other_inputs="其他输入",
    adjustment="未归入阶段",
    stages={
        "raw-materials": "原材料获取",
        "production": "生产",
        "distribution": "分销",
        "use": "使用",
        "end-of-life": "寿命终止",
    },
    gases={"CO2e": "CO2e（未分气体）"},
    origins={"fossil": "化石", "biogenic": "生物源", "land-use": "土地利用变化"},
    dq={
        "rating": "综合",
        "technological": "技术代表性",
        "geographical": "地理代表性",
        "temporal": "时间代表性",
        "completeness": "完整性",
        "reliability": "可靠性",
    },
    dq_scale=("很好", "很差"),
    dq_coverage="评级覆盖碳足迹的 {share}",
    titles={
        "stages": "各生命周期阶段碳足迹",
        "inputs": "热点：贡献最大的输入",
        "waterfall": "生命周期各阶段累计至总量",
        "sankey": "从输入经各阶段到总量的流向",
        "gases": "按温室气体分列的碳足迹",
        "origins": "化石、生物源与土地利用变化",
        "data_quality": "数据质量评级（1 很好，5 很差）",
    },
    no_data="无数据",
    credits_not_drawn="未绘出的负贡献（抵扣）：{value}",
)


def chart_labels(lang: str) -> ChartLabels:
    return LABELS_ZH if lang == "zh" else LABELS_EN


# ---------------------------------------------------------------------------------------------
# Formatting and text metrics


def fmt(value: float, sig: int = 4) -> str:
    """A number to `sig` significant figures, never in exponent form, thousands grouped."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    digits = sig - 1 - math.floor(math.log10(abs(value)))
    rounded = round(value, digits)
    if digits <= 0:
        return f"{rounded:,.0f}"
    return f"{rounded:,.{digits}f}".rstrip("0").rstrip(".")


def pct(part: float, whole: float) -> str:
    if whole == 0:
        return "—"
    share = 100 * part / whole
    return f"{share:.1f}%" if abs(share) >= 0.05 or share == 0 else "<0.1%"


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: wide (CJK) characters one em, others 0.56 em."""
    return size * sum(1.0 if ord(ch) > 0x2E7F else 0.56 for ch in text)


def truncate(text: str, size: float, width: float) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _svg(kind: str, width: float, height: float, title: str, desc: str, body: str) -> str:
    ident = f"openpcf-{kind}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="openpcf-chart openpcf-chart-{kind}" '
        f'viewBox="0 0 {width:g} {height:g}" width="{width:g}" height="{height:g}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="{FONT}" font-size="12" '
        f'fill="{INK}">'
        f'<title id="{ident}-title">{_e(title)}</title><desc id="{ident}-desc">{_e(desc)}</desc>'
        f"{body}</svg>"
    )


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: float = 12,
          fill: str = INK, weight: str | None = None, extra: str = "",
          full: str | None = None) -> str:  # fmt: skip
    """A text element; a label shortened to fit carries its `full` text as a tooltip."""
    w = f' font-weight="{weight}"' if weight else ""
    tip = f"<title>{_e(full)}</title>" if full and full != text else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size:g}" '
        f'fill="{fill}"{w}{extra}>{tip}{_e(text)}</text>'
    )


def _colour_cycle(keys: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    spare = iter(_EXTRA_COLOURS * (1 + len(keys) // len(_EXTRA_COLOURS)))
    for key in keys:
        out[key] = known.get(key) or next(spare)
    return out


def _ordered_stages(stages: Mapping[str, float]) -> list[str]:
    known = [s for s in STAGE_ORDER if s in stages]
    return known + sorted(s for s in stages if s not in STAGE_ORDER)


def _empty(kind: str, title: str, labels: ChartLabels) -> str:
    body = _text(320, 40, labels.no_data, anchor="middle", fill=MUTED)
    return _svg(kind, 640, 70, title, labels.no_data, body)


# ---------------------------------------------------------------------------------------------
# Horizontal bars (stages, inputs, origins)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    colour: str


def horizontal_bars(kind: str, bars: Sequence[Bar], whole: float, title: str,
                    labels: ChartLabels, legend: Sequence[tuple[str, str]] = ()) -> str:  # fmt: skip
    """Bars from a zero line (negatives go left), the label on the left, value and share of
    `whole` on the right."""
    if not bars:
        return _empty(kind, title, labels)
    width, row, bar_h, top = 640.0, 28.0, 16.0, 8.0
    label_w, value_w = 196.0, 128.0
    x0, x1 = label_w + 8, width - value_w - 8
    lo = min(0.0, *(b.value for b in bars))
    hi = max(0.0, *(b.value for b in bars))
    span = (hi - lo) or 1.0
    scale = (x1 - x0) / span
    zero = x0 + (0 - lo) * scale
    height = top + row * len(bars) + (30 if legend else 6)
    parts = []
    for i, b in enumerate(bars):
        y = top + i * row
        bx = zero + min(0.0, b.value) * scale
        bw = max(abs(b.value) * scale, 0.8 if b.value else 0)
        parts.append(_text(label_w, y + 16, truncate(b.label, 12, label_w - 4), anchor="end",
                          full=b.label))  # fmt: skip
        parts.append(f'<rect x="{x0:.1f}" y="{y + 5:.1f}" width="{x1 - x0:.1f}" '
                     f'height="{bar_h + 2:.1f}" fill="#f5f7fa"/>')  # fmt: skip
        parts.append(
            f'<rect x="{bx:.2f}" y="{y + 6:.1f}" width="{bw:.2f}" height="{bar_h:g}" rx="2" '
            f'fill="{b.colour}"><title>{_e(b.label)}: {_e(fmt(b.value))} {_e(labels.unit)}'
            f"</title></rect>"
        )
        parts.append(_text(width - 56, y + 16, fmt(b.value), anchor="end", weight="600"))
        parts.append(_text(width - 2, y + 16, pct(b.value, whole), anchor="end", fill=MUTED))
    if lo < 0:
        parts.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top:g}" '
                     f'y2="{top + row * len(bars):g}" stroke="{INK}" stroke-width="1"/>')  # fmt: skip
    parts.append(_legend(legend, x0, top + row * len(bars) + 14))
    desc = "; ".join(f"{b.label}: {fmt(b.value)} {labels.unit} ({pct(b.value, whole)})"
                     for b in bars)  # fmt: skip
    return _svg(kind, width, height, title, desc, "".join(parts))


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    parts = []
    for label, colour in items:
        parts.append(f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" rx="2" '
                     f'fill="{colour}"/>')  # fmt: skip
        parts.append(_text(x + 14, y, label, size=11, fill=MUTED))
        x += 14 + text_width(label, 11) + 16
    return "".join(parts)


def stage_bars(result: Result, labels: ChartLabels = LABELS_EN) -> str:
    """Footprint per life-cycle stage, with each stage's share of the total."""
    bars = [Bar(labels.stage(s), result.stages[s], STAGE_COLOURS.get(s, OTHER))
            for s in _ordered_stages(result.stages)]  # fmt: skip
    return horizontal_bars("stages", bars, result.pcf.value, labels.title("stages"), labels)


def top_inputs(result: Result, n: int = 8) -> tuple[list[tuple[str, str, float]], float, int]:
    """The `n` largest contributions (name, stage, kg CO2e) by magnitude, the sum of the rest
    and how many the rest are."""
    ranked = sorted(result.contributions, key=lambda c: abs(c.kg_co2e), reverse=True)
    head = [(c.name, c.stage, c.kg_co2e) for c in ranked[:n]]
    rest = ranked[n:]
    return head, sum(c.kg_co2e for c in rest), len(rest)


def input_bars(result: Result, labels: ChartLabels = LABELS_EN, n: int = 8) -> str:
    """Hotspots: the `n` largest inputs, coloured by stage, and the rest summed as one bar."""
    head, rest, count = top_inputs(result, n)
    bars = [Bar(name, value, STAGE_COLOURS.get(stage, OTHER)) for name, stage, value in head]
    if count:
        bars.append(Bar(f"{labels.other} ({count} {labels.other_inputs})", rest, OTHER))
    stages = [s for s in STAGE_ORDER if any(st == s for _, st, _ in head)]
    legend = [(labels.stage(s), STAGE_COLOURS[s]) for s in stages]
    if count:
        legend.append((labels.other, OTHER))
    return horizontal_bars("inputs", bars, result.pcf.value, labels.title("inputs"), labels,
                           legend)  # fmt: skip


def origin_bars(result: Result, labels: ChartLabels = LABELS_EN) -> str:
    """Fossil, biogenic and land-use change parts (each may be negative: removals)."""
    keys = [k for k in ("fossil", "biogenic", "land-use") if k in result.origins]
    keys += sorted(k for k in result.origins if k not in keys)
    bars = [Bar(labels.origins.get(k, k), result.origins[k], ORIGIN_COLOURS.get(k, OTHER))
            for k in keys]  # fmt: skip
    return horizontal_bars("origins", bars, result.pcf.value, labels.title("origins"), labels)


# ---------------------------------------------------------------------------------------------
# Waterfall


@dataclass(frozen=True)
class WaterfallStep:
    key: str  # a stage, "adjustment" or "total"
    start: float
    end: float

    @property
    def value(self) -> float:
        return self.end - self.start


def waterfall_steps(result: Result) -> tuple[WaterfallStep, ...]:
    """Each stage as a step from the running sum, then the total. Where the stages do not add up
    to the total (a part the result holds outside any stage), one "adjustment" step says so."""
    steps: list[WaterfallStep] = []
    running = 0.0
    for stage in _ordered_stages(result.stages):
        value = result.stages[stage]
        steps.append(WaterfallStep(stage, running, running + value))
        running += value
    gap = result.pcf.value - running
    if abs(gap) > 1e-9 * max(1.0, abs(result.pcf.value)):
        steps.append(WaterfallStep("adjustment", running, result.pcf.value))
    steps.append(WaterfallStep("total", 0.0, result.pcf.value))
    return tuple(steps)


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    span = hi - lo or abs(hi) or 1.0
    raw = span / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step) * step
    ticks, t = [], first
    while t <= hi + step * 0.5:
        ticks.append(round(t, 12))
        t += step
    return ticks


def waterfall(result: Result, labels: ChartLabels = LABELS_EN) -> str:
    """The life cycle as floating bars: each stage starts where the previous one ended, and the
    last bar is the total they add up to."""
    steps = waterfall_steps(result)
    width, height = 640.0, 300.0
    left, right, top, bottom = 64.0, 16.0, 24.0, 48.0
    lo = min(0.0, *(min(s.start, s.end) for s in steps))
    hi = max(0.0, *(max(s.start, s.end) for s in steps))
    ticks = _nice_ticks(lo, hi)
    lo, hi = min(lo, ticks[0]), max(hi, ticks[-1])
    plot_h = height - top - bottom

    def y(v: float) -> float:
        return top + (hi - v) / ((hi - lo) or 1.0) * plot_h

    slot = (width - left - right) / len(steps)
    bar_w = min(72.0, slot * 0.62)
    parts = []
    for t in ticks:
        parts.append(f'<line x1="{left:g}" x2="{width - right:g}" y1="{y(t):.1f}" '
                     f'y2="{y(t):.1f}" stroke="{GRID}"/>')  # fmt: skip
        parts.append(_text(left - 8, y(t) + 4, fmt(t, 3), anchor="end", size=11, fill=MUTED))
    parts.append(_text(left - 8, top - 10, labels.unit, anchor="end", size=11, fill=MUTED))
    for i, s in enumerate(steps):
        cx = left + slot * (i + 0.5)
        if s.key == "total":
            colour, name = TOTAL, labels.total
        elif s.key == "adjustment":
            colour, name = OTHER, labels.adjustment
        else:
            colour, name = STAGE_COLOURS.get(s.key, OTHER), labels.stage(s.key)
        y_top, y_bot = y(max(s.start, s.end)), y(min(s.start, s.end))
        h = max(y_bot - y_top, 1.0)
        parts.append(
            f'<rect class="step" data-key="{_e(s.key)}" data-value="{s.value!r}" '
            f'x="{cx - bar_w / 2:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'rx="2" fill="{colour}"><title>{_e(name)}: {_e(fmt(s.value))} {_e(labels.unit)}'
            f"</title></rect>"
        )
        if i + 1 < len(steps) and s.key != "total":
            nx = left + slot * (i + 1.5) - bar_w / 2
            parts.append(f'<line x1="{cx + bar_w / 2:.1f}" x2="{nx:.1f}" y1="{y(s.end):.1f}" '
                         f'y2="{y(s.end):.1f}" stroke="{MUTED}" stroke-dasharray="3 3"/>')  # fmt: skip
        sign = "+" if s.key not in ("total",) and s.value > 0 else ""
        parts.append(_text(cx, y_top - 6, f"{sign}{fmt(s.value)}", anchor="middle", size=11,
                           weight="700" if s.key == "total" else "600"))  # fmt: skip
        parts.append(_text(cx, height - bottom + 18, truncate(name, 11, slot - 4),
                           anchor="middle", size=11, full=name))  # fmt: skip
    parts.append(f'<line x1="{left:g}" x2="{width - right:g}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
                 f'stroke="{INK}"/>')  # fmt: skip
    desc = "; ".join(
        f"{labels.total if s.key == 'total' else labels.adjustment if s.key == 'adjustment' else labels.stage(s.key)}: "
        f"{fmt(s.value)} {labels.unit}"
        for s in steps
    )
    return _svg("waterfall", width, height, labels.title("waterfall"), desc, "".join(parts))


# ---------------------------------------------------------------------------------------------
# Gases


def gas_split(result: Result, labels: ChartLabels = LABELS_EN) -> str:
    """Share of each gas as one stacked bar with a legend of values; bars when a gas is negative."""
    keys = sorted(result.gases, key=lambda g: (g == "CO2e", -abs(result.gases[g])))
    colours = _colour_cycle(keys, GAS_COLOURS)
    title = labels.title("gases")
    if not keys:
        return _empty("gases", title, labels)
    values = [result.gases[k] for k in keys]
    whole = sum(values)
    if any(v < 0 for v in values) or whole <= 0:
        bars = [Bar(labels.gas(k), result.gases[k], colours[k]) for k in keys]
        return horizontal_bars("gases", bars, result.pcf.value, title, labels)
    width, bar_h, x0, x1 = 640.0, 28.0, 8.0, 632.0
    parts, x = [], x0
    for k, v in zip(keys, values, strict=True):
        w = (x1 - x0) * v / whole
        parts.append(f'<rect x="{x:.2f}" y="8" width="{max(w, 0):.2f}" height="{bar_h:g}" '
                     f'fill="{colours[k]}"><title>{_e(labels.gas(k))}: {_e(fmt(v))} '
                     f"{_e(labels.unit)}</title></rect>")  # fmt: skip
        share = pct(v, whole)
        if w > text_width(share, 11) + 8:
            parts.append(_text(x + w / 2, 8 + bar_h / 2 + 4, share, anchor="middle", size=11,
                               fill="#ffffff", weight="600"))  # fmt: skip
        x += w
    y = 8 + bar_h + 22
    col_w = (x1 - x0) / 2
    for i, (k, v) in enumerate(zip(keys, values, strict=True)):
        cx, cy = x0 + (i % 2) * col_w, y + (i // 2) * 20
        parts.append(f'<rect x="{cx:.1f}" y="{cy - 9:.1f}" width="10" height="10" rx="2" '
                     f'fill="{colours[k]}"/>')  # fmt: skip
        parts.append(_text(cx + 16, cy, truncate(labels.gas(k), 12, col_w - 150),
                           full=labels.gas(k)))  # fmt: skip
        parts.append(_text(cx + col_w - 70, cy, fmt(v), anchor="end", weight="600"))
        parts.append(_text(cx + col_w - 14, cy, pct(v, whole), anchor="end", fill=MUTED))
    height = y + 20 * math.ceil(len(keys) / 2) - 4
    desc = "; ".join(f"{labels.gas(k)}: {fmt(v)} {labels.unit} ({pct(v, whole)})"
                     for k, v in zip(keys, values, strict=True))  # fmt: skip
    return _svg("gases", width, height, title, desc, "".join(parts))


# ---------------------------------------------------------------------------------------------
# Data quality


_DQ_KEYS = ("technological", "geographical", "temporal", "completeness", "reliability", "rating")


def data_quality(result: Result, labels: ChartLabels = LABELS_EN) -> str:
    """Each indicator on its 1 (very good) to 5 (very poor) scale, the overall rating last."""
    title = labels.title("data_quality")
    dq = result.data_quality
    if dq is None:
        return _empty("data-quality", title, labels)
    width, row, label_w, top = 640.0, 28.0, 150.0, 24.0
    x0, x1 = label_w + 12, width - 60

    def x(v: float) -> float:
        return x0 + (min(max(v, 1), 5) - 1) / 4 * (x1 - x0)

    parts = ['<defs><linearGradient id="openpcf-dq-band" x1="0" x2="1" y1="0" y2="0">'
             '<stop offset="0" stop-color="#d8efe3"/><stop offset="0.5" stop-color="#f7ecd0"/>'
             '<stop offset="1" stop-color="#f6d5cf"/></linearGradient></defs>']  # fmt: skip
    for t in range(1, 6):
        parts.append(_text(x(t), top - 8, str(t), anchor="middle", size=11, fill=MUTED))
    parts.append(_text(x0, top - 8, f"  {labels.dq_scale[0]}", size=10, fill=MUTED,
                       extra=f' dx="{8:g}"'))  # fmt: skip
    parts.append(_text(x1, top - 8, f"{labels.dq_scale[1]}  ", anchor="end", size=10,
                       fill=MUTED, extra=' dx="-8"'))  # fmt: skip
    for i, key in enumerate(_DQ_KEYS):
        y = top + i * row + (6 if key == "rating" else 0)
        value = getattr(dq, key)
        bold = "700" if key == "rating" else None
        parts.append(_text(label_w, y + 17, labels.dq.get(key, key), anchor="end", weight=bold))
        parts.append(f'<rect x="{x0:g}" y="{y + 9:.1f}" width="{x1 - x0:g}" height="10" rx="5" '
                     f'fill="url(#openpcf-dq-band)"/>')  # fmt: skip
        parts.append(f'<circle cx="{x(value):.1f}" cy="{y + 14:.1f}" r="{7 if bold else 6}" '
                     f'fill="{TOTAL if bold else "#2f6b4f"}" stroke="#ffffff" stroke-width="2">'
                     f"<title>{_e(labels.dq.get(key, key))}: {value:.2f}</title></circle>")  # fmt: skip
        parts.append(_text(width - 8, y + 18, f"{value:.2f}", anchor="end", weight=bold or "600"))
    rule_y = top + (len(_DQ_KEYS) - 1) * row + 3  # a rule between the indicators and overall
    parts.append(f'<line x1="8" x2="{width - 8:g}" y1="{rule_y:.1f}" y2="{rule_y:.1f}" '
                 f'stroke="{GRID}"/>')  # fmt: skip
    coverage = labels.dq_coverage.format(share=f"{dq.coverage * 100:.0f}%")
    height = top + len(_DQ_KEYS) * row + 30
    parts.append(_text(x0, height - 8, coverage, size=11, fill=MUTED))
    desc = "; ".join(f"{labels.dq.get(k, k)}: {getattr(dq, k):.2f}" for k in _DQ_KEYS)
    return _svg("data-quality", width, height, title, f"{desc}; {coverage}", "".join(parts))


# ---------------------------------------------------------------------------------------------
# Sankey


def _spread(centres: list[float], gap: float, lo: float, hi: float) -> list[float]:
    """Move label centres apart to at least `gap`, keeping them within [lo, hi]."""
    out = list(centres)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + gap)
    if out and out[-1] > hi:
        out[-1] = hi
        for i in range(len(out) - 2, -1, -1):
            out[i] = min(out[i], out[i + 1] - gap)
    return [max(v, lo) for v in out]


def sankey(result: Result, labels: ChartLabels = LABELS_EN, n: int = 8) -> str:
    """Inputs (the `n` largest, the rest per stage) flowing into stages and on to the total.
    Only positive contributions are drawn; credits are stated in the description and a note."""
    title = labels.title("sankey")
    positive = [c for c in result.contributions if c.kg_co2e > 0]
    credits = sum(c.kg_co2e for c in result.contributions if c.kg_co2e < 0)
    if not positive:
        return _empty("sankey", title, labels)
    ranked = sorted(positive, key=lambda c: c.kg_co2e, reverse=True)
    head, rest = ranked[:n], ranked[n:]
    stages = _ordered_stages({c.stage: 0.0 for c in positive})
    nodes: list[tuple[str, str, float, bool]] = []  # label, stage, value, is "other"
    for stage in stages:
        for c in head:
            if c.stage == stage:
                nodes.append((c.name, stage, c.kg_co2e, False))
        others = [c for c in rest if c.stage == stage]
        if others:
            nodes.append((f"{labels.other} · {labels.stage(stage)} ({len(others)})", stage,
                          sum(c.kg_co2e for c in others), True))  # fmt: skip
    total = sum(v for _, _, v, _ in nodes)
    stage_value = {s: sum(v for _, st, v, _ in nodes if st == s) for s in stages}

    width, top, bottom, pad = 640.0, 12.0, 14.0, 6.0
    height = max(260.0, 22.0 * len(nodes) + top + bottom + 10)
    usable = height - top - bottom - pad * (len(nodes) - 1)
    k = usable / total
    xl, xm, xr, node_w = 246.0, 440.0, 612.0, 10.0
    parts = []
    # left column
    left_pos, y = [], top
    for _label, _stage, value, _ in nodes:
        left_pos.append((y, value * k))
        y += value * k + pad
    # middle column, centred vertically
    mid_h = sum(stage_value[s] * k for s in stages) + pad * (len(stages) - 1)
    y = top + (height - top - bottom - mid_h) / 2
    mid_pos = {}
    for s in stages:
        mid_pos[s] = (y, stage_value[s] * k)
        y += stage_value[s] * k + pad
    right_y = top + (height - top - bottom - total * k) / 2

    def band(xa: float, ya: float, xb: float, yb: float, h: float, colour: str) -> str:
        mx = (xa + xb) / 2
        return (f'<path d="M{xa:.1f},{ya:.2f} C{mx:.1f},{ya:.2f} {mx:.1f},{yb:.2f} {xb:.1f},'
                f'{yb:.2f} L{xb:.1f},{yb + h:.2f} C{mx:.1f},{yb + h:.2f} {mx:.1f},{ya + h:.2f} '
                f'{xa:.1f},{ya + h:.2f} Z" fill="{colour}" fill-opacity="0.32"/>')  # fmt: skip

    filled = dict.fromkeys(stages, 0.0)
    for (_label, stage, _value, other), (ly, lh) in zip(nodes, left_pos, strict=True):
        my = mid_pos[stage][0] + filled[stage]
        filled[stage] += lh
        colour = OTHER if other else STAGE_COLOURS.get(stage, OTHER)
        parts.append(band(xl + node_w, ly, xm, my, lh, colour))
    ry = right_y
    for s in stages:
        my, mh = mid_pos[s]
        parts.append(band(xm + node_w, my, xr, ry, mh, STAGE_COLOURS.get(s, OTHER)))
        ry += mh
    centres = _spread([ly + lh / 2 for ly, lh in left_pos], 14.0, top + 4, height - 4)
    for (label, stage, value, other), (ly, lh), cy in zip(nodes, left_pos, centres, strict=True):
        colour = OTHER if other else STAGE_COLOURS.get(stage, OTHER)
        parts.append(f'<rect x="{xl:g}" y="{ly:.2f}" width="{node_w:g}" height="{max(lh, 0.8):.2f}" '
                     f'fill="{colour}"><title>{_e(label)}: {_e(fmt(value))} {_e(labels.unit)}'
                     f"</title></rect>")  # fmt: skip
        text = f"{truncate(label, 11, xl - 66)}  {fmt(value, 3)}"
        parts.append(_text(xl - 6, cy + 4, text, anchor="end", size=11,
                           full=f"{label}  {fmt(value, 3)}"))  # fmt: skip

    def haloed(x: float, y: float, text: str, **kw) -> str:
        # A white outline under the text keeps it legible over the bands (paint-order is not
        # supported by every SVG renderer, so the outline is a second text element).
        halo = ' stroke="#ffffff" stroke-width="3" stroke-linejoin="round"'
        under = _text(x, y, text, **{**kw, "fill": "#ffffff", "extra": halo})
        return under + _text(x, y, text, **kw)

    for s in stages:
        my, mh = mid_pos[s]
        parts.append(f'<rect x="{xm:g}" y="{my:.2f}" width="{node_w:g}" height="{mh:.2f}" '
                     f'fill="{STAGE_COLOURS.get(s, OTHER)}"/>')  # fmt: skip
        parts.append(haloed(xm + node_w + 6, my + mh / 2 - 2, labels.stage(s), size=11,
                            weight="600"))  # fmt: skip
        parts.append(haloed(xm + node_w + 6, my + mh / 2 + 11, f"{fmt(stage_value[s], 3)} "
                            f"({pct(stage_value[s], total)})", size=10, fill=MUTED))  # fmt: skip
    parts.append(f'<rect x="{xr:g}" y="{right_y:.2f}" width="{node_w + 4:g}" '
                 f'height="{total * k:.2f}" fill="{TOTAL}"/>')  # fmt: skip
    parts.append(haloed(xr - 6, right_y + total * k / 2 - 2, labels.total, anchor="end",
                        weight="700"))  # fmt: skip
    parts.append(haloed(xr - 6, right_y + total * k / 2 + 12, f"{fmt(total)} {labels.unit}",
                        anchor="end", size=10, fill=MUTED))  # fmt: skip
    desc = "; ".join(f"{label} ({labels.stage(stage)}): {fmt(value)} {labels.unit}"
                     for label, stage, value, _ in nodes)  # fmt: skip
    if credits:
        note = labels.credits_not_drawn.format(value=f"{fmt(credits)} {labels.unit}")
        desc += f"; {note}"
        parts.append(_text(8, height - 2, note, size=10, fill=MUTED))
    return _svg("sankey", width, height, title, desc, "".join(parts))


def all_charts(result: Result, lang: str = "en") -> dict[str, str]:
    """Every chart of a result by name, for a page or report that shows them all."""
    labels = chart_labels(lang)
    return {
        "stages": stage_bars(result, labels),
        "inputs": input_bars(result, labels),
        "waterfall": waterfall(result, labels),
        "sankey": sankey(result, labels),
        "gases": gas_split(result, labels),
        "origins": origin_bars(result, labels),
        "data_quality": data_quality(result, labels),
    }
