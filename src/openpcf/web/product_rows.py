"""The product list's rows: each product with its latest footprint, the profile it was
computed under and its certification status, filtered by a search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request

from openpcf.domain.platform import CalculationSummary, ProductInfo
from openpcf.services.calculation import stored as calculations
from openpcf.web import certification_view
from openpcf.web.auth import WebUser
from openpcf.web.common import call


@dataclass(frozen=True)
class ProductRow:
    product: ProductInfo
    latest: CalculationSummary | None  # the newest calculation
    status: str | None  # the newest submission's status (draft … published, revoked, expired)


def product_rows(
    request: Request, user: WebUser, mine: list[ProductInfo], q: str = ""
) -> list[ProductRow]:
    words = q.lower().split()
    shown = [p for p in mine if all(w in f"{p.name} {p.slug} {p.cpc or ''}".lower() for w in words)]
    status: dict[str, Any] = {}
    for s in sorted(
        certification_view.submissions_of(request, user),
        key=lambda s: s.updated_at or s.created_at,
    ):
        status[s.product] = s.status.value
    rows = []
    for p in shown:
        calcs = call(request, calculations.list_calculations, user.principal, p.urn)
        latest = max(calcs, key=lambda c: c.created_at, default=None) if calcs else None
        rows.append(ProductRow(p, latest, status.get(p.urn)))
    return rows
