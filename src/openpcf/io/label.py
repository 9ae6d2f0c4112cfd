"""The carbon label: one SVG drawn in millimetres at a printable size, and a PNG rendered from it.

The label shows 碳足迹 Carbon Footprint, the value per declared unit, the product, the benchmark
grade where the product rule defines classes, the standard, and the certificate (id, status) with
a QR code to its public product page `{public_url}/p/{certificate_id}`. A footprint with no
certificate gets a draft label, marked 未认证 / not certified, with no QR code.

Rounding on the label (`label_value`): three significant figures, halves away from zero, thousands
grouped with commas: 716.007 → 716, 58.9023 → 58.9, 0.012345 → 0.0123, 12 345 → 12,300. The
report gives the unrounded figures.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from html import escape

import segno

from openpcf.domain.result import Result

_FONT = (
    "'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',"
    "'Helvetica Neue',Arial,sans-serif"
)
_GREEN = "#1d4f3b"
_GREEN_LIGHT = "#e3f1ea"
_INK = "#1f2933"
_MUTED = "#52606d"
_AMBER = "#b7791f"
_RED = "#b83227"


@dataclass(frozen=True)
class CertificateSummary:
    """What a label and a report show of a certificate. The certification service's records map
    onto it in the web and CLI layers, so these renderers depend on no store or service."""

    id: str
    status: str | None = None  # valid | suspended | revoked | expired; None: not known here
    verifier: str | None = None
    issued: date | None = None
    valid_until: date | None = None
    key_fingerprint: str | None = None
    signature: str | None = None


_STATUS = {
    "valid": ("有效", "Valid", "#2f855a"),
    "suspended": ("暂停", "Suspended", _AMBER),
    "revoked": ("已撤销", "Revoked", _RED),
    "expired": ("已过期", "Expired", _RED),
}

#: Short names of the profiles for a label's small print; others print their id.
STANDARD_NAMES = {
    "gb-t-24067": "GB/T 24067-2024",
    "iso-14067": "ISO 14067:2018",
    "ghg-protocol-product": "GHG Protocol Product",
    "pact-v3": "PACT Methodology v3",
    "eu-cbam": "EU CBAM",
    "eu-battery": "EU 2023/1542",
}


def status_text(status: str | None) -> tuple[str, str, str]:
    """(Chinese, English, colour) of a certificate status; an unknown status is printed as is."""
    if status is None:
        return "扫码查验", "Scan to verify", _MUTED
    return _STATUS.get(status.lower(), (status, status, _MUTED))


@dataclass(frozen=True)
class LabelSize:
    width_mm: float
    height_mm: float

    def __str__(self) -> str:
        return f"{self.width_mm:g}x{self.height_mm:g}mm"

    @classmethod
    def parse(cls, text: str) -> LabelSize:
        """'50x70mm', '50x70', '50×70 mm' or a preset name (small, medium, large)."""
        if text.strip().lower() in SIZES:
            return SIZES[text.strip().lower()]
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*[x×X*]\s*(\d+(?:\.\d+)?)\s*(mm)?\s*", text)
        if not m:
            raise ValueError(f"label size '{text}': expected WIDTHxHEIGHTmm such as 50x70mm, "
                             f"or one of {', '.join(SIZES)}")  # fmt: skip
        size = cls(float(m.group(1)), float(m.group(2)))
        ratio = size.height_mm / size.width_mm
        if not 25 <= size.width_mm <= 300 or not 1.1 <= ratio <= 1.6:
            raise ValueError(f"label size '{text}': a label is 25-300 mm wide and 1.1 to 1.6 times "
                             "as high as wide (portrait), e.g. 30x40mm, 50x70mm, 80x100mm")  # fmt: skip
        return size


SIZES = {
    "small": LabelSize(30, 40),
    "medium": LabelSize(50, 70),
    "large": LabelSize(80, 100),
}
DEFAULT_SIZE = SIZES["medium"]


def label_value(value: float) -> str:
    """The footprint as printed on the label: three significant figures (see the module doc)."""
    if value == 0:
        return "0"
    d = Decimal(repr(value))
    exponent = d.adjusted()  # position of the first significant digit
    rounded = d.quantize(Decimal(1).scaleb(exponent - 2), rounding=ROUND_HALF_UP)
    if rounded.adjusted() > exponent:  # 999.5 → 1000: keep three significant figures
        rounded = rounded.quantize(Decimal(1).scaleb(exponent - 1), rounding=ROUND_HALF_UP)
    places = max(0, -rounded.as_tuple().exponent)  # type: ignore[operator]
    return f"{rounded:,.{places}f}"


def product_page_url(public_url: str, certificate_id: str) -> str:
    return f"{public_url.rstrip('/')}/p/{certificate_id}"


def declared_unit_text(result: Result) -> str:
    du = result.declared_unit
    return du.unit if du.amount == 1 else f"{du.amount:g} {du.unit}"


def png_pixels(size: LabelSize, dpi: int) -> tuple[int, int]:
    """Pixel size of a label printed at `dpi`: millimetres / 25.4 × dpi, rounded."""
    return round(size.width_mm / 25.4 * dpi), round(size.height_mm / 25.4 * dpi)


# ---------------------------------------------------------------------------------------------
# Drawing. Coordinates are in "label units": the label is 50 units wide whatever its size, so
# the design scales; small print has a floor in real millimetres so it stays legible.

_W = 50.0
_MIN_TEXT_MM = 1.3  # about 3.7 pt: the smallest print on the smallest label


def _tw(text: str, size: float) -> float:
    """Approximate width: CJK characters one em, digits and Latin letters 0.56 em."""
    return size * sum(_char_em(ch) for ch in text)


def _char_em(ch: str) -> float:
    if ord(ch) > 0x2E7F or ch == "·":  # CJK, and the middle dot CJK fonts draw full width
        return 1.0
    if ch in ".,:;!|'ijlI ":
        return 0.28
    return 0.58 if ch.isupper() or ch.isdigit() else 0.52


def _fit(text: str, size: float, width: float, floor: float) -> tuple[str, float]:
    """Shrink the text to fit `width`, down to `floor`; past that, cut it with an ellipsis."""
    if _tw(text, size) > width:
        size = max(floor, size * width / _tw(text, size))
    while _tw(text, size) > width and len(text) > 1:
        text = text[:-2] + "…"
    return text, size


def _first_fit(variants: tuple[str, ...], size: float, width: float, floor: float
               ) -> tuple[str, float]:  # fmt: skip
    """The first of the variants (longest first) that fits whole; else the last, cut to fit."""
    for text in variants:
        fitted, fs = _fit(text, size, width, floor)
        if fitted == text:
            return fitted, fs
    return _fit(variants[-1], size, width, floor)


def _wrap(text: str, size: float, width: float, lines: int) -> list[str]:
    """Wrap at spaces (or anywhere in CJK text) into at most `lines`, the last cut with …"""
    words = re.findall(r"\S+\s*|\s+", text)
    out, line = [], ""
    for word in words:
        if _tw(line + word.rstrip(), size) <= width:
            line += word
            continue
        if line:
            out.append(line.rstrip())
        line = word
        while _tw(line.rstrip(), size) > width:  # a word longer than the line: break it
            cut = len(line)
            while cut > 1 and _tw(line[:cut], size) > width:
                cut -= 1
            out.append(line[:cut])
            line = line[cut:]
    if line.strip():
        out.append(line.rstrip())
    if len(out) > lines:
        last = out[lines - 1]
        while _tw(last + "…", size) > width and last:
            last = last[:-1]
        out = [*out[: lines - 1], last.rstrip() + "…"]
    return out


def _t(x: float, y: float, text: str, size: float, *, fill: str = _INK, weight: str = "400",
       anchor: str = "start", spacing: float = 0) -> str:  # fmt: skip
    ls = f' letter-spacing="{spacing:.3f}"' if spacing else ""
    return (f'<text x="{x:.3f}" y="{y:.3f}" font-size="{size:.3f}" font-weight="{weight}" '
            f'fill="{fill}" text-anchor="{anchor}"{ls}>{escape(text)}</text>')  # fmt: skip


def _qr_path(url: str) -> tuple[str, int]:
    """The QR code of `url` as one SVG path in module units (runs of dark modules merged), and
    its width in modules. Error correction M: a scratched label still reads."""
    qr = segno.make(url, error="m", micro=False)
    d = []
    for y, row in enumerate(qr.matrix):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                d.append(f"M{start},{y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return "".join(d), len(qr.matrix)


def _footprint_icon(cx: float, cy: float, r: float) -> str:
    """A footprint in a circle: the mark of the label."""
    s = r / 5.0
    toes = [(-2.3, -2.6, 0.72), (-1.0, -3.3, 0.62), (0.3, -3.5, 0.55), (1.4, -3.2, 0.48),
            (2.3, -2.5, 0.42)]  # fmt: skip
    parts = [
        f'<circle cx="{cx:.3f}" cy="{cy:.3f}" r="{r:.3f}" fill="#ffffff" fill-opacity="0.14"/>'
    ]
    parts.append(f'<ellipse cx="{cx:.3f}" cy="{cy + 0.9 * s:.3f}" rx="{1.9 * s:.3f}" '
                 f'ry="{2.6 * s:.3f}" fill="#bfe3cf" transform="rotate(-12 {cx:.3f} '
                 f'{cy + 0.9 * s:.3f})"/>')  # fmt: skip
    for dx, dy, rr in toes:
        parts.append(f'<circle cx="{cx + dx * s * 0.9:.3f}" cy="{cy + dy * s:.3f}" '
                     f'r="{rr * s:.3f}" fill="#bfe3cf"/>')  # fmt: skip
    return "".join(parts)


def label_svg(result: Result, *, certificate: CertificateSummary | None = None,
              public_url: str = "http://127.0.0.1:8000", size: LabelSize = DEFAULT_SIZE,
              standard: str | None = None) -> str:  # fmt: skip
    """The label as an SVG document sized in millimetres. Without a certificate it is a draft:
    marked 未认证 NOT CERTIFIED, with no QR code."""
    scale = size.width_mm / _W  # mm per label unit
    height = _W * size.height_mm / size.width_mm
    floor = _MIN_TEXT_MM / scale
    small = max(1.75, floor)
    m = 3.0  # margin
    inner = _W - 2 * m
    standard = standard or STANDARD_NAMES.get(result.profile, result.profile)
    value = label_value(result.pcf.value)
    parts: list[str] = []

    # Frame and header band.
    head_h = 13.0
    parts.append(f'<rect x="0.4" y="0.4" width="{_W - 0.8:g}" height="{height - 0.8:.3f}" '
                 f'rx="2.4" fill="#ffffff" stroke="{_GREEN}" stroke-width="0.8"/>')  # fmt: skip
    parts.append(f'<path d="M0.4,{head_h} V2.8 a2.4,2.4 0 0 1 2.4,-2.4 H{_W - 2.8} a2.4,2.4 0 0 1 '
                 f'2.4,2.4 V{head_h} Z" fill="{_GREEN}"/>')  # fmt: skip
    parts.append(_t(m, 7.4, "碳足迹", 5.6, fill="#ffffff", weight="700", spacing=0.5))
    parts.append(_t(m, 10.9, "CARBON FOOTPRINT", max(2.2, floor), fill="#d5ebdf", weight="700",
                    spacing=0.28))  # fmt: skip
    parts.append(_footprint_icon(_W - m - 4.4, head_h / 2, 4.4))

    y = head_h
    if certificate is None:  # the draft ribbon
        parts.append(f'<rect x="0.4" y="{y:g}" width="{_W - 0.8:g}" height="4.6" fill="#fdf1dc"/>')
        text, fs = _fit("未认证 NOT CERTIFIED · 草稿 DRAFT", 2.3, inner, floor)
        parts.append(_t(_W / 2, y + 3.2, text, fs, fill="#8a4b0f", weight="700", anchor="middle",
                        spacing=0.1))  # fmt: skip
        y += 4.6

    # Product name, up to two lines.
    name_size = max(2.7, floor)
    y += 5.0
    for line in _wrap(result.product, name_size, inner, 2):
        parts.append(_t(m, y, line, name_size, weight="700"))
        y += name_size * 1.25

    # The value, with its unit beside it when there is room.
    footer_h = 4.0
    qr_size = 16.0 if certificate else 0.0
    bottom_block = (qr_size if certificate else 9.0) + footer_h + 2.0
    chip = _grade_text(result)
    grade_h = 6.0 if chip else 0.0
    free_top = y
    free_bottom = height - m - bottom_block - grade_h
    unit_text = "kg CO2e"
    per_text = f"/ {declared_unit_text(result)}"
    value_size = 13.0
    unit_size = max(3.0, floor)
    need = _tw(value, value_size) * 1.02 + 1.9 + _tw(unit_text, unit_size)
    if need > inner:
        value_size *= (inner - 1.9 - _tw(unit_text, unit_size)) / (_tw(value, value_size) * 1.02)
    # The figure's cap height is about 0.74 em; below it the "per declared unit" line.
    below = 1.6 + small * 1.6
    value_size = max(min(value_size, (free_bottom - free_top - below - 1.0) / 0.74), 2 * unit_size)
    block_h = value_size * 0.74 + below
    base = free_top + max(0.0, (free_bottom - free_top - block_h) / 2) + value_size * 0.74
    parts.append(_t(m - 0.3, base, value, value_size, fill=_GREEN, weight="700"))
    ux = m - 0.3 + _tw(value, value_size) * 1.02 + 1.6
    parts.append(_t(ux, base - unit_size * 1.05, unit_text, unit_size, weight="700"))
    parts.append(_t(ux, base, per_text, unit_size, fill=_MUTED, weight="700"))
    per_line, fs = _fit(f"每声明单位 per declared unit ({declared_unit_text(result)})", small,
                        inner, floor)  # fmt: skip
    parts.append(_t(m, base + 1.6 + small * 1.1, per_line, fs, fill=_MUTED))

    # Grade chip (with the green-procurement verdict where a regulator set a threshold).
    if chip:
        gy = free_bottom + 0.5
        parts.append(f'<rect x="{m:g}" y="{gy:.3f}" width="{inner:g}" height="4.8" rx="2.4" '
                     f'fill="{_GREEN_LIGHT}"/>')  # fmt: skip
        text, fs = _fit(chip, max(2.1, floor), inner - 3, floor)
        parts.append(_t(m + 1.5, gy + 3.3, text, fs, fill=_GREEN, weight="700"))

    # Bottom block: certificate and QR code, or the draft notice.
    by = height - m - bottom_block + 1.0
    parts.append(f'<line x1="{m:g}" x2="{_W - m:g}" y1="{by - 0.6:.3f}" y2="{by - 0.6:.3f}" '
                 f'stroke="#d9e2ec" stroke-width="0.25"/>')  # fmt: skip
    if certificate is not None:
        url = product_page_url(public_url, certificate.id)
        path, modules = _qr_path(url)
        quiet = 2  # modules of white inside the box; the label's white around it adds more
        unit = qr_size / (modules + 2 * quiet)
        qx, qy = m - quiet * unit, by + 0.4
        parts.append(f'<g transform="translate({qx + quiet * unit:.4f} {qy + quiet * unit:.4f}) '
                     f'scale({unit:.5f})"><path d="{path}" fill="{_INK}" '
                     f'shape-rendering="crispEdges"/></g>')  # fmt: skip
        tx = m + qr_size - 2 * quiet * unit + 2.0
        tw = _W - m - tx
        zh, en, colour = status_text(certificate.status)
        until = certificate.valid_until.isoformat() if certificate.valid_until else None
        lines: list[tuple[tuple[str, ...], float, str, str]] = [
            (("证书编号 Certificate", "证书 Certificate"), small, _MUTED, "400"),
            ((certificate.id,), max(2.3, floor), _INK, "700"),
            ((f"{zh} {en}", zh), max(2.2, floor), colour, "700"),
        ]
        if until:
            lines.append(((f"有效期至 Valid until {until}", f"有效期至 {until}", f"至 {until}"),
                          small, _MUTED, "400"))  # fmt: skip
        lines.append(((f"依据 {standard}", standard), small, _MUTED, "400"))
        ty = qy + 2.2
        limit = qy + qr_size - 2 * quiet * unit + 1.0
        for variants, fs, colour, weight in lines:
            if ty > limit:
                break
            text, fs = _first_fit(variants, fs, tw, floor)
            parts.append(_t(tx, ty, text, fs, fill=colour, weight=weight))
            ty += fs * 1.45
        where = url.split("://", 1)[-1]
        foot, fs = _first_fit((f"扫码查验 Scan to verify · {where}", f"扫码查验 · {where}",
                               "扫码查验 Scan to verify"), small, inner, floor)  # fmt: skip
    else:
        notes = [("草稿标签，非认证声明", small, "#8a4b0f", "700"),
                 ("Draft label: not a certified claim", small, "#8a4b0f", "400"),
                 (f"依据 {standard}", small, _MUTED, "400")]  # fmt: skip
        ty = by + 2.6
        for text, fs, colour, weight in notes:
            text, fs = _fit(text, fs, inner, floor)
            parts.append(_t(m, ty, text, fs, fill=colour, weight=weight))
            ty += fs * 1.5
        foot, fs = _first_fit(("openpcf · 计算结果未经核查 result not verified",
                               "openpcf · 未经核查 not verified"), small, inner, floor)  # fmt: skip
    parts.append(_t(m, height - m + 0.2, foot, fs, fill=_MUTED))

    title = f"碳足迹 Carbon Footprint: {result.product}, {value} kg CO2e {per_text}"
    desc = (f"{'certificate ' + certificate.id if certificate else 'not certified (draft)'}; "
            f"{standard}{_evidence_text(result)}")  # fmt: skip
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size.width_mm:g}mm" '
        f'height="{size.height_mm:g}mm" viewBox="0 0 {_W:g} {height:.4f}" role="img" '
        f'aria-labelledby="openpcf-label-title openpcf-label-desc" font-family="{_FONT}" '
        f'class="openpcf-label" data-value="{escape(value)}">'
        f'<title id="openpcf-label-title">{escape(title)}</title>'
        f'<desc id="openpcf-label-desc">{escape(desc)}</desc>{"".join(parts)}</svg>'
    )


def _grade_text(result: Result) -> str:
    """The grade chip: the grade, and whether the footprint meets the procurement threshold."""
    parts = [f"等级 Grade  {result.grade}"] if result.grade else []
    meets = result.procurement.meets_threshold if result.procurement else None
    if meets is not None:
        parts.append("符合绿色采购 meets procurement" if meets else
                     "未达绿色采购 below procurement")  # fmt: skip
    return " · ".join(parts)


def _evidence_text(result: Result) -> str:
    """Green-electricity evidence the label's description names (declared or metered)."""
    codes = {n.code for n in result.warnings}
    if "DIRECT_CONNECTION_METERED" in codes:
        return "; direct connection metered (ledger-chained readings)"
    if "DIRECT_CONNECTION_DECLARED" in codes:
        return "; direct connection declared, not metered"
    return ""


def label_png(svg: str, size: LabelSize, dpi: int = 300) -> bytes:
    """Render the label's SVG (cairo) to a PNG of `size` at `dpi`, with the DPI recorded in the
    file so it prints at its size."""
    import cairosvg
    from PIL import Image

    width, height = png_pixels(size, dpi)
    raw = cairosvg.svg2png(bytestring=svg.encode("utf-8"), output_width=width,
                           output_height=height, background_color="white")  # fmt: skip
    image = Image.open(io.BytesIO(raw))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()
