"""Reading a recomputed footprint: its changes, and its full result materialised on read."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf import __version__
from openpcf.domain.factor import FactorSet
from openpcf.domain.platform import CalculationInfo, Footprint, Principal, UsedModelVersion
from openpcf.domain.result import Amount, DeclaredUnit, Note, Result
from openpcf.services.errors import InvalidRequest, NotFound
from openpcf.services.platform.access import own
from openpcf.services.platform.accounts import utc
from openpcf.services.recompute.full import recalculated
from openpcf.store.models import Calculation
from openpcf.store.models_recompute import RecomputedFootprint, RecomputeRun

TOLERANCE = 1e-9  # relative: a materialised result must agree with the stored total


def changes_of(columns: list[str] | tuple[str, ...], changes: bytes) -> dict[str, dict[str, float]]:
    """A stored footprint's changes as {"stages": {stage: kg CO2e}, "gases": {gas: kg CO2e}},
    the non-zero ones; `columns` is its run's `change_columns`."""
    values = np.frombuffer(changes, dtype="<f8")
    if len(values) != len(columns):
        raise ValueError(f"{len(values)} change values for {len(columns)} columns")
    out: dict[str, dict[str, float]] = {"stages": {}, "gases": {}}
    for name, value in zip(columns, values.tolist(), strict=True):
        kind, _, key = name.partition(":")
        if value:
            out["stages" if kind == "stage" else "gases"][key] = value
    return out


def recomputed_calculation(
    session: Session, who: Principal, calculation_id: str, run_id: str
) -> CalculationInfo:
    """The recomputed footprint of a calculation of the caller's tenant, with its full result.

    A linear row stores the new totals; its full result is materialised here from the recorded
    models and set versions with the run's set, and must agree with the stored total."""
    with session.begin():
        found = session.execute(
            select(RecomputedFootprint, RecomputeRun, Calculation)
            .join(RecomputeRun, RecomputeRun.id == RecomputedFootprint.run_id)
            .join(Calculation, Calculation.id == RecomputedFootprint.calculation_id)
            .where(
                Calculation.uuid == calculation_id,
                RecomputeRun.uuid == run_id,
                own(who, Calculation.tenant_id),
            )
        ).first()
        if found is None:
            raise NotFound(f"no recomputation {run_id} of calculation {calculation_id}")
        row, run, calc = found
        if row.result is not None:
            result = Result.model_validate_json(row.result)
        else:
            result = recalculated(session, calc, FactorSet.model_validate(run.factor_set))
            if abs(result.pcf.value - row.pcf) > TOLERANCE * max(abs(row.pcf), 1e-12):
                raise InvalidRequest(
                    f"the recalculated total {result.pcf.value!r} differs from the stored "
                    f"{row.pcf!r}: a model or set version changed since the run"
                )
        note = Note(
            code="RECOMPUTED",
            message=f"recomputed by run {run.uuid} with factor set {run.label} from "
            f"calculation {calc.uuid} (total before: {row.previous_pcf:.6g} kg CO2e)",
        )
        result = result.model_copy(update={"warnings": (*result.warnings, note)})
        du = result.declared_unit
        return CalculationInfo(
            id=calc.uuid,
            product=calc.product.urn,
            model_version=calc.model_versions[0]["number"],
            profile=calc.profile,
            gwp=calc.gwp,
            pcf=Amount(value=row.pcf, unit="kg CO2e"),
            declared_unit=DeclaredUnit(amount=du.amount, unit=du.unit),
            created_at=utc(run.created_at),
            rule=calc.rule,
            factor_sets=list(result.provenance.factor_sets),
            model_versions=[UsedModelVersion.model_validate(m) for m in calc.model_versions],
            software_version=__version__,
            input_hash=result.provenance.input_hash,
            created_by=run.created_by,
            footprint=Footprint.of(result),
            result=result,
        )
