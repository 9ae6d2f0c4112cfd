"""Full recalculation from the store: from the recorded model versions and factor-set versions,
for what the linear path cannot follow."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.factor import Factor, FactorSet
from openpcf.domain.platform import UsedModelVersion
from openpcf.domain.result import Result
from openpcf.factors.bundled import bundled_set
from openpcf.factors.catalogue import Catalogue
from openpcf.io.model_file import LoadedModel
from openpcf.services.calculation.calculate import calculate
from openpcf.services.calculation.check import check
from openpcf.services.calculation.project import Project
from openpcf.services.catalogue.products import loaded_version
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.services.recompute.changes import Target
from openpcf.services.recompute.report import Progress, RecomputeReport
from openpcf.store.models import Calculation, FactorSetVersion, ModelVersion, Product
from openpcf.store.models_recompute import CalculationUsage, RecomputeFactor, RecomputeFactorSet


@dataclass
class Recalculated:
    """A calculation recalculated in full."""

    calc: int
    tenant: int
    previous: float
    result: Result
    stages: dict[str, float]  # change by stage
    gases: dict[str, float]  # change by gas


def legacy_calculations(
    session: Session, target: Target, done: np.ndarray, report: RecomputeReport
) -> list[tuple[int, float]]:
    """Calculations stored without usage that drew on another version of the set.

    The ids first (a calculation's large row is read only if it has no usage)."""
    ids = select(Calculation.id).where(
        ~exists().where(CalculationUsage.calculation_id == Calculation.id)
    )
    if target.tenant_id is not None:
        ids = ids.where(Calculation.tenant_id == target.tenant_id)
    legacy = session.scalars(ids).all()
    out = []
    for start in range(0, len(legacy), 1000):
        for calc_id, labels, pcf in session.execute(
            select(Calculation.id, Calculation.factor_sets, Calculation.pcf).where(
                Calculation.id.in_(legacy[start : start + 1000])
            )
        ):
            names = [label.rpartition("@") for label in labels]
            if any(n == target.fs.id and f"{n}@{v}" != target.fs.label for n, _, v in names):
                if calc_id in done:
                    report.skipped += 1
                    continue
                report.examined += 1
                out.append((calc_id, pcf))
    return out


def recalculate_all(
    session: Session,
    new: FactorSet,
    todo: list[tuple[int, float]],
    report: RecomputeReport,
    say: Progress,
) -> list[Recalculated]:
    """Recalculate in full what the linear path cannot follow; failures are reported, not stored."""
    out = []
    for n, (calc_id, previous) in enumerate(todo, 1):
        calc = session.get(Calculation, calc_id)
        assert calc is not None
        try:
            result = recalculated(session, calc, new)
        except OpenpcfError as exc:
            report.failed += 1
            if len(report.failures) < 100:
                report.failures.append(f"calculation {calc.uuid} ({calc.product.urn}): {exc}")
            continue
        old = Result.model_validate_json(calc.result)
        out.append(
            Recalculated(
                calc_id, calc.tenant_id, previous, result,
                _difference(old.stages, result.stages), _difference(old.gases, result.gases),
            )
        )  # fmt: skip
        report.full += 1
        say("full", n, len(todo))
    return out


def _difference(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: b.get(k, 0.0) - a.get(k, 0.0) for k in {**a, **b} if b.get(k, 0.0) != a.get(k, 0.0)}


def recalculated(session: Session, calc: Calculation, new: FactorSet) -> Result:
    """`calc` recalculated from its recorded model versions and set versions, with `new` in
    place of its version of the same set. Violations are listed, as with allow_violations."""
    recorded = _calculation_sets(session, calc)
    first = next((i for i, fs in enumerate(recorded) if fs.id == new.id), None)
    # every recorded version of the set gives way to the one new version, in the first's place
    sets = [
        new if i == first else fs for i, fs in enumerate(recorded) if fs.id != new.id or i == first
    ]
    project = _recorded_project(session, calc, sets)
    result = calculate(project, gwp=calc.gwp, profile=calc.profile)
    return result.model_copy(update={"violations": tuple(check(project, calc.profile, result))})


def _calculation_sets(session: Session, calc: Calculation) -> list[FactorSet]:
    recorded = session.execute(
        select(RecomputeFactorSet)
        .join(CalculationUsage, CalculationUsage.set_id == RecomputeFactorSet.id)
        .where(CalculationUsage.calculation_id == calc.id)
        .order_by(CalculationUsage.position)
    ).scalars().all()  # fmt: skip
    if recorded:
        return [_rebuilt(session, s) for s in recorded]
    tenant = calc.product.tenant.slug
    shipped = bundled_set()
    sets: list[FactorSet] = []
    for label in calc.factor_sets:
        name, _, version = label.rpartition("@")
        if name == shipped.id:
            if label != shipped.label:
                raise InvalidRequest(
                    f"the calculation used {label}, which this software does not ship and which "
                    "was not recorded; it cannot be recalculated as it was"
                )
            sets.append(shipped)
        elif name.startswith(f"{tenant}:"):
            row = session.scalar(
                select(FactorSetVersion).where(
                    FactorSetVersion.tenant_id == calc.tenant_id,
                    FactorSetVersion.name == name.removeprefix(f"{tenant}:"),
                    FactorSetVersion.version == version,
                )
            )
            if row is None:
                raise NotFound(f"factor set {label} of the calculation is gone")
            from openpcf.services.catalogue.factor_sets import as_factor_set

            sets.append(as_factor_set(row))
    return sets  # inline sets and databases come back from the models themselves


def _rebuilt(session: Session, s: RecomputeFactorSet) -> FactorSet:
    factors = session.scalars(
        select(RecomputeFactor.factor).where(RecomputeFactor.set_id == s.id).order_by(RecomputeFactor.id)
    ).all()  # fmt: skip
    return FactorSet(
        id=s.set_name,
        version=s.set_version,
        title=s.title,
        factors=tuple(Factor.model_validate(f) for f in factors),
    )


def _recorded_project(session: Session, calc: Calculation, sets: list[FactorSet]) -> Project:
    """The project of the exact model versions the calculation used (not the latest ones)."""
    used = [UsedModelVersion.model_validate(m) for m in calc.model_versions]
    models: list[LoadedModel] = []
    for u in used:
        version = session.scalar(
            select(ModelVersion)
            .join(Product, Product.id == ModelVersion.product_id)
            .where(
                Product.urn == u.product,
                Product.tenant_id == calc.tenant_id,
                ModelVersion.number == u.number,
            )
        )
        if version is None or version.sha256 != u.sha256:
            raise NotFound(f"model version {u.product} #{u.number} of the calculation is gone")
        models.append(loaded_version(version))
    index_of = {u.product: i for i, u in enumerate(used)}
    links = {
        (i, k): index_of[line.product]
        for i, m in enumerate(models)
        for k, line in enumerate(m.model.inputs)
        if line.product is not None and line.product in index_of
    }
    digest = hashlib.sha256()
    for m in models:
        digest.update(m.path.name.encode() + b"\0" + m.doc.text.encode("utf-8") + b"\0")
    for fs in sets:
        digest.update(fs.label.encode() + b"\0" + fs.model_dump_json().encode() + b"\0")
    return Project(
        models=tuple(models),
        links=links,
        catalogue=Catalogue.of(sets),
        factor_files=(),
        input_hash=digest.hexdigest(),
    )
