"""The issued-certificates CSV a regulator or registry operator imports (one row a certificate).

Columns (header row required, in any order):
    id, volume, unit, generation, project, province, period_start, period_end, issuer
`volume` in `unit` (an energy unit: kWh, MWh, GWh); `generation` one of the model's generation
types (wind, solar-pv, hydro, ...); `province` an ISO 3166-2 code such as CN-QH; periods as
ISO dates (YYYY-MM-DD), start not after end. Lines starting with '#' are comments.
Every problem names its line and column; one bad row fails the whole file.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import get_args

from openpcf.domain.errors import Location, ModelError, MultiError, OpenpcfError
from openpcf.domain.model import Generation
from openpcf.factors.electricity import PROVINCES
from openpcf.units import factor_between

COLUMNS = (
    "id", "volume", "unit", "generation", "project", "province", "period_start", "period_end",
    "issuer",
)  # fmt: skip
MAX_ROWS = 200_000
MAX_BYTES = 50 * 1024 * 1024
GENERATIONS = frozenset(get_args(Generation))


@dataclass(frozen=True)
class IssuedCertificate:
    certificate_id: str
    kwh: float
    generation: str
    project: str
    province: str
    period_start: date
    period_end: date
    issuer: str


def parse_issuances(text: str, source: str = "issuance CSV") -> list[IssuedCertificate]:
    """The file's certificates; a `MultiError` listing each bad row (by line and column)."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise ModelError(f"{source} is larger than {MAX_BYTES // 2**20} MiB; split it")
    lines = [ln for ln in text.splitlines(True) if not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("".join(lines)))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ModelError(
            f"{source}: the header lacks column(s) {', '.join(missing)}; expected "
            f"{','.join(COLUMNS)}",
            Location(file=source, line=1),
        )
    out: list[IssuedCertificate] = []
    errors: list[OpenpcfError] = []
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if len(out) + len(errors) >= MAX_ROWS:
            raise ModelError(f"{source} has more than {MAX_ROWS} rows; split it")
        cells = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
        try:
            cert = _row(cells, source, line)
        except OpenpcfError as exc:
            errors.append(exc)
            continue
        if cert.certificate_id in seen:
            errors.append(ModelError(
                f"certificate {cert.certificate_id} is listed twice (first on line "
                f"{seen[cert.certificate_id]})", Location(file=source, line=line, field="id"),
            ))  # fmt: skip
            continue
        seen[cert.certificate_id] = line
        out.append(cert)
    if errors:
        raise MultiError(errors) if len(errors) > 1 else errors[0]
    if not out:
        raise ModelError(f"{source} lists no certificate", Location(file=source))
    return out


def _row(cells: dict[str, str], source: str, line: int) -> IssuedCertificate:
    def where(col: str) -> Location:
        return Location(file=source, line=line, field=col)

    for col in COLUMNS:
        if not cells.get(col):
            raise ModelError(f"column '{col}' is empty", where(col))
    try:
        volume = float(cells["volume"])
    except ValueError:
        raise ModelError(f"volume '{cells['volume']}' is not a number", where("volume")) from None
    if not volume > 0 or volume == float("inf"):
        raise ModelError(f"volume {cells['volume']} must be a positive number", where("volume"))
    kwh = volume * factor_between(cells["unit"], "kWh", "volume", where("unit"))
    if cells["generation"] not in GENERATIONS:
        raise ModelError(
            f"generation '{cells['generation']}' is not one of {', '.join(sorted(GENERATIONS))}",
            where("generation"),
        )
    province = cells["province"].upper()
    if province not in PROVINCES:
        raise ModelError(
            f"province '{cells['province']}' is not an ISO 3166-2 province code such as CN-QH",
            where("province"),
        )
    start, end = _date(cells, "period_start", where), _date(cells, "period_end", where)
    if start > end:
        raise ModelError(f"period_start {start} is after period_end {end}", where("period_end"))
    if len(cells["id"]) > 200:
        raise ModelError("a certificate id is at most 200 characters", where("id"))
    return IssuedCertificate(
        certificate_id=cells["id"],
        kwh=kwh,
        generation=cells["generation"],
        project=cells["project"][:300],
        province=province,
        period_start=start,
        period_end=end,
        issuer=cells["issuer"][:200],
    )


def _date(cells: dict[str, str], col: str, where: Callable[[str], Location]) -> date:
    try:
        return date.fromisoformat(cells[col])
    except ValueError:
        raise ModelError(f"{col} '{cells[col]}' is not a date YYYY-MM-DD", where(col)) from None
