"""The model editor: build or change a product's model as a grid in the browser, pick factors
and sub-assemblies, see every problem beside its cell, and save a new version with a note.

Adding, deleting and moving rows are buttons of the one form (`op`), so the editor works by
keyboard and without JavaScript; `static/editor.js` only opens the factor picker and copies
the picked factor into its cell.
"""

from __future__ import annotations

from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from openpcf.domain.errors import MultiError, OpenpcfError
from openpcf.domain.factor import Factor
from openpcf.domain.model import STAGES, Input
from openpcf.domain.platform import product_urn
from openpcf.io.model_file import model_from_text
from openpcf.services.calculation.references import reference_problems
from openpcf.services.catalogue import factor_sets, products
from openpcf.services.lci.process_search import search_processes
from openpcf.units import quantity_of
from openpcf.web import editor_form as ef
from openpcf.web import names
from openpcf.web.auth import Csrf, Enterprise, EnterpriseWriter, WebNotFound, WebUser
from openpcf.web.common import call, db, problems
from openpcf.web.render import language, render

router = APIRouter(include_in_schema=False)

MAX_FORM_FIELDS = 20_000
GASES = ("CO2", "CH4", "N2O", "SF6", "NF3", "HFC-134a", "CF4", "C2F6")


def _product(request: Request, user: WebUser, slug: str) -> Any:
    info = call(request, products.get_product, user.principal, product_urn(user.tenant, slug))
    if info.tenant != user.tenant:
        raise WebNotFound()
    return info


def _sub_assemblies(request: Request, user: WebUser, slug: str) -> list[Any]:
    mine = call(request, products.list_products, user.principal)
    return [p for p in mine if p.tenant == user.tenant and p.slug != slug and p.latest_version]


def _page(
    request: Request, user: WebUser, slug: str, grid: ef.Grid, status: int = 200, **extra: Any
) -> Response:
    ctx = {
        "product": _product(request, user, slug),
        "grid": grid,
        "columns": ef.COLUMNS,
        "kinds": ef.KINDS,
        "stages": STAGES,
        "gases": GASES,
        "subs": _sub_assemblies(request, user, slug),
        "own_factors": [r["id"] for r in grid.rows.get("factors", []) if r.get("id")],
        "regions": names.region_options(language(request)),
        "section": "products",
        **extra,
    }
    return render(request, "enterprise/editor.html", ctx, status_code=status)


@router.get("/app/products/{slug}/edit")
def editor(request: Request, user: EnterpriseWriter, slug: str, v: int | None = None) -> Response:
    """The grid of the given (default: latest) model version, or an empty model."""
    info = _product(request, user, slug)
    number = v or info.latest_version
    if number:
        doc = call(request, products.get_version, user.principal, info.urn, number)
        grid = ef.grid_of(yaml.safe_load(doc.text))
        return _page(request, user, slug, grid, base=number)
    return _page(request, user, slug, ef.empty_grid(info.name), base=None)


@router.post("/app/products/{slug}/edit", dependencies=[Csrf])
async def editor_post(request: Request, user: EnterpriseWriter, slug: str) -> Response:
    form = await request.form(max_fields=MAX_FORM_FIELDS)
    values = {k: v for k, v in form.items() if isinstance(v, str)}
    grid = ef.grid_from_form(values)
    op = values.get("op", "check")
    base = values.get("base") or None
    if ef.apply_op(grid, op):
        focus = _focus_after(grid, op)
        return _page(request, user, slug, grid, base=base, focus=focus)
    text = _checked(request, user, grid)
    if grid.count or op != "save" or text is None:
        status = 422 if grid.count else 200
        return _page(request, user, slug, grid, status, base=base, checked=not grid.count)
    urn = product_urn(user.tenant, slug)
    try:
        with db(request) as session:
            saved, created = products.add_model_version(
                session, user.principal, urn, text, "application/yaml"
            )
    except OpenpcfError as e:
        grid.general.extend(problems(e))
        return _page(request, user, slug, grid, 422, base=base)
    flag = "saved" if created else "unchanged"
    return RedirectResponse(f"/app/products/{slug}?v={saved.number}&{flag}=1", status_code=303)


def _focus_after(grid: ef.Grid, op: str) -> str:
    """The cell to focus after an editing step: the new row's first cell."""
    verb, _, rest = op.partition("-")
    section = rest.split("-")[0]
    if verb == "add" and grid.rows.get(section):
        first = ef.COLUMNS[section][0]
        return f"{section}-{len(grid.rows[section]) - 1}-{first}"
    return ""


def _checked(request: Request, user: WebUser, grid: ef.Grid) -> str | None:
    """The grid as a YAML document when it is a valid model; otherwise its problems are put
    beside their cells (all of them: the schema's, then every reference's)."""
    doc = ef.document_of(grid)
    note = grid.note or "Edited in the browser"
    text = ef.yaml_text(doc, f"{note} ({user.email})")
    try:
        model_from_text(text, Path("model.yaml"))
    except OpenpcfError as e:
        for err in e.errors if isinstance(e, MultiError) else [e]:
            cell = ef.cell_of(grid, err.location.field or "")
            if cell is None or cell not in grid.errors:  # an unreadable cell has its message
                ef.place_errors(grid, err)
    inputs, factors = _valid_items(doc)
    with db(request, read_only=True) as session:
        for err in reference_problems(session, user.principal, inputs, factors):
            ef.place_errors(grid, err)
    return None if grid.count else text


def _valid_items(doc: dict[str, Any]) -> tuple[list[tuple[int, Input]], list[Factor]]:
    """The inputs (with their index) and own factors that are valid on their own."""
    inputs, factors = [], []
    for k, item in enumerate(doc.get("inputs") or []):
        with suppress(ValueError):
            inputs.append((k, Input.model_validate(item)))
    for item in doc.get("factors") or []:
        with suppress(ValueError):
            factors.append(Factor.model_validate(item))
    return inputs, factors


# --- pickers and cell checks (htmx partials) --------------------------------------------------


@router.get("/app/editor/factors")
def factor_picker(
    request: Request, user: Enterprise, q: Annotated[str, Query(max_length=200)] = ""
) -> Response:
    """Factors of the bundled and published sets matching every word, with what decides the
    choice (value, unit, region, year and source), and processes of imported databases."""
    words = names.search_words(q.strip())
    found = call(request, factor_sets.search_factors, user.principal, words, None, 40)
    processes = search_processes(words, 20)
    ctx = {"found": found, "processes": processes, "q": q}
    return render(request, "enterprise/_factor_results.html", ctx)


@router.get("/app/editor/check")
def check_cell(request: Request, user: Enterprise) -> Response:
    """One cell checked as typed: a unit pint knows, an amount that is a number."""
    name, value = next(iter(request.query_params.items()), ("", ""))
    message = ""
    value = value.strip()
    if value and name.endswith(("-unit", "_unit")):
        try:
            quantity_of(value)
        except OpenpcfError as e:
            message = e.message
    elif (
        value
        and name.endswith(("-amount", "-share", "-kg_co2e", "-year"))
        and ef.parse_number(value) is None
    ):
        message = f"expected a number, got '{value}'"
    return render(request, "enterprise/_cell_check.html", {"message": message})
