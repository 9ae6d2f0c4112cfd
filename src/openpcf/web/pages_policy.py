"""Policy and standards tracker pages: the list with filters and the map of China, a document
with its versions, a province, a product rule's policies, and the regulator's editor."""

from __future__ import annotations

from typing import Annotated

import yaml
from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import Location, OpenpcfError
from openpcf.domain.policy import PolicyKind, PolicyStatus, PolicyType
from openpcf.domain.regions import PROVINCES, region_name
from openpcf.io import limits
from openpcf.rules.catalogue import product_rules
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.services.policy import documents, maps, regions
from openpcf.web.auth import Csrf, MaybeUser, Regulator, WebNotFound
from openpcf.web.common import call, db, problems
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)

STATUSES = [s.value for s in PolicyStatus]
TYPES = [t.value for t in PolicyType]
KINDS = [k.value for k in PolicyKind]


def _choice(value: str, allowed: list[str]) -> str | None:
    return value if value in allowed else None


@router.get("/tracker")
def policies_page(
    request: Request,
    user: MaybeUser,
    q: str = "",
    region: str = "",
    sector: str = "",
    type: str = "",
    status: str = "",
    kind: str = "",
    date_from: Annotated[str, Query(alias="from")] = "",
    date_to: Annotated[str, Query(alias="to")] = "",
    view: str = "policy",
    year: int | None = None,
) -> Response:
    lang = language(request)
    wanted = documents.PolicyFilter(
        q=q or None,
        region=region or None,
        sector=sector or None,
        type=PolicyType(type) if _choice(type, TYPES) else None,
        status=PolicyStatus(status) if _choice(status, STATUSES) else None,
        kind=PolicyKind(kind) if _choice(kind, KINDS) else None,
        date_from=date_from or None,
        date_to=date_to or None,
    )
    map_view = maps.MapView(view) if view in maps.MapView.__members__ else maps.MapView.policy
    with db(request, read_only=True) as session:
        found = documents.list_documents(session, wanted)
        try:
            svg = maps.map_svg(session, map_view, lang, year)
        except InvalidRequest:
            year = None
            svg = maps.map_svg(session, map_view, lang, None)
        states = regions.policy_states(session)
    ctx = {
        "docs": found,
        "filters": {
            "q": q,
            "region": region,
            "sector": sector,
            "type": type,
            "status": status,
            "kind": kind,
            "from": date_from,
            "to": date_to,
        },
        "provinces": PROVINCES,
        "statuses": STATUSES,
        "types": TYPES,
        "kinds": KINDS,
        "map_svg": svg,
        "view": map_view.value,
        "year": year,
        "years": regions.grid_years(),
        "issued_provinces": sum(s.state == regions.ISSUED for s in states.values()),
        "draft_provinces": sum(s.state == regions.DRAFT for s in states.values()),
        "region_name": lambda code: region_name(code, lang),
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "policy-results":
        return render(request, "policy/_results.html", ctx)
    return render(request, "policy/index.html", ctx)


@router.get("/tracker/{slug}")
def policy_page(request: Request, user: MaybeUser, slug: str) -> Response:
    lang = language(request)
    with db(request, read_only=True) as session:
        try:
            doc = documents.document(session, slug)
            history = documents.versions(session, slug)
        except NotFound as e:
            raise WebNotFound() from e
    rules = product_rules()
    ctx = {
        "doc": doc,
        "history": list(reversed(history)),
        "rules": [
            (r, rules[r].name_zh if lang == "zh" and rules[r].name_zh else rules[r].name)
            for r in doc.rules
            if r in rules
        ],
        "region_name": lambda code: region_name(code, lang),
    }
    return render(request, "policy/document.html", ctx)


@router.get("/tracker/regions/{code}")
def region_page(request: Request, user: MaybeUser, code: str) -> Response:
    lang = language(request)
    view = call(request, regions.province_view, code)
    return render(request, "policy/region.html",
                  {"view": view, "name": view.province.name(lang), "lang": lang})  # fmt: skip


@router.get("/tracker/rules/{rule_id}")
def rule_page(request: Request, user: MaybeUser, rule_id: str) -> Response:
    rule = product_rules().get(rule_id)
    if rule is None:
        raise WebNotFound()
    lang = language(request)
    with db(request, read_only=True) as session:
        requiring = documents.list_documents(session, documents.PolicyFilter(rule=rule_id))
    ctx = {
        "rule": rule,
        "standards": [d for d in requiring if d.kind == PolicyKind.standard],
        "policies": [d for d in requiring if d.kind == PolicyKind.policy],
        "region_name": lambda code: region_name(code, lang),
    }
    return render(request, "policy/rule.html", ctx)


def _editor(request: Request, slug: str | None, text: str, note: str,
            errors: list[str] | None = None) -> Response:  # fmt: skip
    ctx = {"slug": slug or "", "text": text, "note": note, "errors": errors, "new": slug is None,
           "docs": call(request, documents.list_documents)}  # fmt: skip
    return render(request, "policy/edit.html", ctx, status_code=422 if errors else 200)


_TEMPLATE = """level: province
issuer: 江苏省生态环境厅
title_zh: ""
title_en: ""
date: "2026-01-01"
status: issued
types: [labelling-certification]
regions: [CN-JS]
sectors: []
rules: []
requirements:
  - {text: "…"}
source_url: https://
obtained: primary text from the issuer's website
verify: false
"""


@router.get("/regulate/policies/new")
def new_policy(request: Request, user: Regulator) -> Response:
    return _editor(request, None, _TEMPLATE, "")


@router.get("/regulate/policies/{slug}/edit")
def edit_policy(request: Request, user: Regulator, slug: str) -> Response:
    doc = call(request, documents.document, slug)
    data = documents.as_input(doc).model_dump(mode="json", exclude_none=True)
    return _editor(request, slug, yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "")


@router.post("/regulate/policies", dependencies=[Csrf])
def save_policy(
    request: Request,
    user: Regulator,
    slug: Annotated[str, Form(max_length=120)] = "",
    text: Annotated[str, Form(max_length=50_000)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    new: Annotated[str, Form()] = "",
) -> Response:
    try:
        data, _ = limits.load_yaml(text, Location("document (YAML)"), InvalidRequest)
        document = documents.parse_input(data)
        with db(request) as session:
            if new:
                documents.create(session, user.principal, slug, document, note)
            else:
                documents.edit(session, user.principal, slug, document, note)
    except OpenpcfError as e:
        return _editor(request, None if new else slug, text, note, problems(e))
    return RedirectResponse(f"/tracker/{slug}", status_code=303)


@router.post("/regulate/policies/{slug}/supersede", dependencies=[Csrf])
def supersede_policy(
    request: Request,
    user: Regulator,
    slug: str,
    successor: Annotated[str, Form(max_length=120)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        with db(request) as session:
            documents.supersede(session, user.principal, slug, successor, note)
    except OpenpcfError as e:
        doc = call(request, documents.document, slug)
        data = documents.as_input(doc).model_dump(mode="json", exclude_none=True)
        return _editor(request, slug, yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                       note, problems(e))  # fmt: skip
    return RedirectResponse(f"/tracker/{slug}", status_code=303)
