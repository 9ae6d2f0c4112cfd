"""Whether a stored calculation is still what was computed, checked on every read.

A calculation is bound by what refers to it: each certificate issued for it signs the sha256 of
its canonical result, and its `pcf` column must equal the result's total. A row altered in the
database (its result, its pcf, or both) is then flagged in every response that serves it: the
API's calculation and list responses, the web pages, PACT footprints and the registry. An
uncertified calculation has only the second check: nothing signed holds its hash.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.canonical import NotCanonicalizable
from openpcf.domain.certification import sha256_of_result
from openpcf.domain.platform import CalculationIntegrity
from openpcf.store.models_certification import IssuedCertificate

UNCHECKED = CalculationIntegrity(
    ok=True, certified=False, message="not certified: its total matches its stored result"
)


def integrity_of_rows(session: Session, rows: Iterable[Any]) -> dict[int, CalculationIntegrity]:
    """Integrity of calculation rows (ORM rows or plain rows with id, pcf and result)."""
    rows = list(rows)
    signed: dict[int, set[str]] = {}
    if rows:
        certs = session.execute(
            select(IssuedCertificate.calculation_id, IssuedCertificate.document).where(
                IssuedCertificate.calculation_id.in_([r.id for r in rows])
            )
        ).all()
        for calc_id, document in certs:
            try:
                sha = json.loads(document).get("calculation", {}).get("result_sha256")
            except ValueError:
                sha = None
            signed.setdefault(calc_id, set()).add(str(sha))
    return {r.id: check(r.result, r.pcf, signed.get(r.id)) for r in rows}


def check(result: str, pcf: float, certified: set[str] | None) -> CalculationIntegrity:
    problems: list[str] = []
    try:
        total = json.loads(result)["pcf"]["value"]
    except (ValueError, KeyError, TypeError):
        total = None
    if not isinstance(total, int | float) or not math.isclose(total, pcf, rel_tol=1e-12):
        problems.append(f"its pcf column ({pcf}) is not its result's total ({total})")
    if certified:
        try:
            now = sha256_of_result(result)
        except (NotCanonicalizable, ValueError):
            now = "unreadable"
        if now not in certified:
            problems.append(
                f"its result (sha256 {now[:16]}...) is not the certified one "
                f"({', '.join(sorted(s[:16] + '...' for s in certified))})"
            )
    if problems:
        return CalculationIntegrity(
            ok=False,
            certified=bool(certified),
            message="ALTERED after it was computed: " + "; ".join(problems),
        )
    if certified:
        return CalculationIntegrity(
            ok=True, certified=True, message="unchanged since certification (result sha256)"
        )
    return UNCHECKED
