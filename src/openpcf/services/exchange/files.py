"""Exchange footprints through PACT: export a model's result, import a supplier's footprint.

Export computes the model under a profile (default `pact-v3`), refuses a model that breaks its
product rule unless asked, and fills the PACT metadata the model can give (product id and name,
reference period from `product.year`, geography from `product.region`, exempted share from
`excluded`, the product rule); the rest comes from an export context (company, ids,
classifications, validity, carbon content, ...), given as a YAML/JSON file of `PactContext` fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpcf.domain.errors import Location
from openpcf.domain.model import Input
from openpcf.domain.result import Result
from openpcf.io.model_edit import append_input
from openpcf.io.pact import PactError
from openpcf.io.pact.export import PactContext, PactExport, SectorRule, product_footprint
from openpcf.io.pact.schema import PactVersion
from openpcf.io.pact.supplier import SupplierFootprint, read_footprints, supplier_footprint
from openpcf.io.source import read_document, validate
from openpcf.rules.catalogue import product_rules
from openpcf.services.calculation.calculate import accounting_for, calculate
from openpcf.services.calculation.check import check
from openpcf.services.calculation.inventory import main_share, reference_per_declared
from openpcf.services.calculation.project import Project, load_project
from openpcf.units import factor_between

EXPORT_PROFILE = "pact-v3"


def export_pact(
    model: Path,
    *,
    version: PactVersion = "3",
    profile: str = EXPORT_PROFILE,
    factor_files: Sequence[Path] = (),
    context_file: Path | None = None,
    tenant: str = "local",
    allow_violations: bool = False,
    created: datetime | None = None,
) -> PactExport:
    """The model's footprint as a validated PACT ProductFootprint."""
    project = load_project(model, factor_files)
    result = calculate(project, profile=profile)
    breaches = [v for v in check(project, profile, result) if v.rule != profile]
    if breaches and not allow_violations:
        listed = "; ".join(f"{v.message} ({v.fix})" for v in breaches[:5])
        raise PactError(
            f"the model breaks its product rule ({listed}); fix it, or export with "
            f"--allow-violations",
            Location(model),
        )
    overrides = _context_file(context_file) if context_file else {}
    if created is not None:
        overrides.setdefault("created", created)
    context, notes = pact_context(project, result, overrides, tenant)
    exported = product_footprint(result, context, version)
    return PactExport(exported.document, (*notes, *exported.notes))


def pact_context(
    project: Project, result: Result, overrides: Mapping[str, Any], tenant: str
) -> tuple[PactContext, list[str]]:
    """PACT metadata from the model, with `overrides` (fields of PactContext) on top."""
    lm = project.models[0]
    product = lm.model.product
    notes: list[str] = []
    slug = re.sub(r"[^a-z0-9]+", "-", product.name.lower()).strip("-") or "product"
    product_id = product.id or ""
    if not product_id.lower().startswith("urn:"):
        product_id = f"urn:openpcf:product:{tenant}:{slug}"
    fields: dict[str, Any] = {
        "company_name": tenant,
        "company_ids": [f"urn:openpcf:company:{tenant}"],
        "product_ids": [product_id],
        "product_name": product.name,
        "product_description": f"{product.name}; PCF per {product.declared_unit.amount:g} "
        f"{product.declared_unit.unit}",
    }
    if product.year is not None:
        fields["reference_period_start"] = datetime(product.year, 1, 1, tzinfo=UTC)
        fields["reference_period_end"] = datetime(product.year + 1, 1, 1, tzinfo=UTC)
    if product.region and re.fullmatch(r"[A-Z]{2}(-[A-Z0-9]{1,3})?", product.region):
        fields["geography"] = product.region
    excluded = lm.model.excluded
    if excluded:
        share, _ = main_share(lm, accounting_for(result.profile))
        left_out = sum(x.kg_co2e for x in excluded) * share * reference_per_declared(lm)
        left_out /= product.reference_quantity.amount
        whole = left_out + result.pcf.value
        fields["exempted_emissions_percent"] = 100 * left_out / whole if whole > 0 else 0.0
        fields["exempted_emissions_description"] = "; ".join(
            f"{x.name} ({x.stage}{', ' + x.reason if x.reason else ''})" for x in excluded
        )
    rule = product_rules().get(result.rule)
    if rule is not None:
        fields["product_rules"] = [SectorRule(
            operator="Other", rule_names=(f"{rule.name} (openpcf product rule {rule.id})",),
            other_operator_name="openpcf",
        )]  # fmt: skip
    fields |= dict(overrides)
    if "company_name" not in overrides:
        notes.append(
            f"companyName is the tenant '{tenant}' and companyIds its URN; give company_name "
            f"and company_ids in the export context"
        )
    for key in ("reference_period_start", "reference_period_end"):
        if key not in fields:
            raise PactError(
                f"the reference period is unknown: give product.year in the model, or "
                f"{key} in the export context",
                lm.where("product"),
            )
    return PactContext.model_validate(fields), notes


def _context_file(path: Path) -> dict[str, Any]:
    doc = read_document(Path(path), PactError)
    if not isinstance(doc.data, dict):
        raise PactError("expected a mapping of PactContext fields", Location(path, 1))
    validate(PactContext, _with_required(doc.data), doc, PactError)
    return dict(doc.data)


def _with_required(data: dict[str, Any]) -> dict[str, Any]:
    """Check a context file's fields alone: the required ones are filled from the model later."""
    filler = {"company_name": "x", "company_ids": ["urn:x"], "product_ids": ["urn:x"],
              "product_name": "x", "reference_period_start": "2000-01-01T00:00:00Z",
              "reference_period_end": "2000-01-01T00:00:00Z"}  # fmt: skip
    return filler | data


@dataclass(frozen=True)
class ImportedInput:
    entry: dict[str, Any]  # one `inputs:` item, ready for YAML or JSON
    comments: tuple[str, ...]
    footprint: SupplierFootprint


def input_from_pact(
    path: Path,
    *,
    pf_id: str | None = None,
    amount: float | None = None,
    unit: str | None = None,
    name: str | None = None,
    stage: str = "raw-materials",
) -> ImportedInput:
    """A `pcf:` input from a supplier's PACT file (one footprint, or the one with `pf_id`)."""
    found = read_footprints(path)
    if pf_id is not None:
        found = [(v, pf) for v, pf in found if pf["id"].lower() == pf_id.lower()]
        if not found:
            raise PactError(f"no footprint with id {pf_id}", Location(path))
    if len(found) > 1:
        listed = ", ".join(f"{pf['id']} ({pf['productNameCompany']})" for _, pf in found)
        raise PactError(f"the file holds {len(found)} footprints; pick one with --id: {listed}",
                        Location(path))  # fmt: skip
    version, pf = found[0]
    sf = supplier_footprint(version, pf)
    use_unit = unit or sf.unit
    factor_between(use_unit, sf.unit, f"--unit '{use_unit}' against the footprint's unit")
    pcf = sf.pcf.model_dump(exclude_none=True, mode="json")
    entry: dict[str, Any] = {
        "name": name or sf.name,
        "stage": stage,
        "amount": amount if amount is not None else 1,
        "unit": use_unit,
        "pcf": pcf,
        "primary": True,
    }
    if sf.dq is not None:
        entry["dq"] = sf.dq.model_dump()
    Input.model_validate(entry)
    p = sf.parts
    comments = [
        f"from {sf.pcf.source}",
        f"per {sf.unit}: fossil {p['fossil']:.6g} + land use {p['land-use']:.6g} + biogenic "
        f"non-CO2 {p['biogenic']:.6g} kg CO2e; biogenic CO2 uptake {p['uptake']:.6g} not counted",
        *sf.notes,
    ]
    if amount is None:
        comments.append(f"amount: set how much {use_unit} the reference amount uses")
    return ImportedInput(entry, tuple(comments), sf)


def import_into(model: Path, imported: ImportedInput) -> None:
    append_input(model, imported.entry, imported.comments)
