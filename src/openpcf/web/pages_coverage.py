"""The regulator's drill-downs: one province's products and certificates, the coverage counts
as a CSV file (province and product-rule rows), and a search of the factors in force."""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from openpcf.domain.regions import region_name
from openpcf.services.catalogue import coverage, coverage_detail, factor_sets
from openpcf.web import names
from openpcf.web.auth import Regulator
from openpcf.web.common import call
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)


@router.get("/regulate/coverage.csv")
def coverage_csv(request: Request, user: Regulator) -> Response:
    report = call(request, coverage.coverage, user.principal)
    lang = language(request)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["by", "key", "name", "products", "calculated", "certified", "published"])
    for by, rows in (("province", report.by_province), ("product rule", report.by_rule)):
        for r in rows:
            name = region_name(r.key, lang) if by == "province" else r.label
            w.writerow([by, r.key, name, r.products, r.calculated, r.certified, r.published])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so that Excel reads the Chinese names as UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="openpcf-coverage.csv"'},
    )


@router.get("/regulate/coverage/{code}")
def province_page(request: Request, user: Regulator, code: str) -> Response:
    rows = call(request, coverage_detail.province_products, user.principal, code[:20])
    ctx = {"code": code.upper()[:20], "rows": rows, "section": "coverage"}
    return render(request, "regulator/province.html", ctx)


@router.get("/regulate/factors")
def factor_search(
    request: Request, user: Regulator, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Factors of the bundled set and the regulator's published sets matching every word."""
    words = names.search_words(q.strip())
    found = call(request, factor_sets.search_factors, user.principal, words, None, 60)
    ctx = {"found": found, "processes": [], "q": q, "browse_only": True}
    return render(request, "enterprise/_factor_results.html", ctx)
