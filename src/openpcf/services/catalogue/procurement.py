"""Grades and green-procurement thresholds: a regulator sets, per product rule and declared
unit, grade classes and a threshold (kg CO2e per declared unit), with the source and the dates
it is valid; results and the public registry show the grade and whether a footprint meets the
threshold in force. A new setting is a new row (the history stays); the one in force on a date
is the latest `valid_from` on or before it that has not expired."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session, aliased

from openpcf.domain.errors import OpenpcfError
from openpcf.domain.methodology import BenchmarkClass
from openpcf.domain.platform import Principal
from openpcf.domain.result import ProcurementCheck
from openpcf.services.errors import InvalidRequest
from openpcf.services.platform.access import national
from openpcf.store.models_national import ProcurementThreshold
from openpcf.units import quantity_of


class ThresholdCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rule_id: str = Field(min_length=1, max_length=100, examples=["cement"])
    declared_unit: str = Field(min_length=1, max_length=100, examples=["1 t"])
    threshold_kg_co2e: float | None = Field(default=None, gt=0, description="procurement limit")
    grades: list[BenchmarkClass] = Field(default_factory=list, max_length=20)
    source: str = Field(min_length=1, max_length=1000)
    valid_from: date
    valid_until: date | None = None

    @model_validator(mode="after")
    def _something(self) -> ThresholdCreate:
        if self.threshold_kg_co2e is None and not self.grades:
            raise ValueError("give a threshold_kg_co2e, grades, or both")
        if self.valid_until is not None and self.valid_until < self.valid_from:
            raise ValueError("valid_until is before valid_from")
        return self


class ThresholdInfo(ThresholdCreate):
    id: int
    created_by: str


def set_threshold(session: Session, who: Principal, new: ThresholdCreate) -> ThresholdInfo:
    with session.begin():
        national(session, who)
        row = ProcurementThreshold(
            tenant_id=who.tenant_id, rule_id=new.rule_id, declared_unit=normal_unit(new.declared_unit),
            threshold_kg_co2e=new.threshold_kg_co2e,
            grades=[g.model_dump() for g in sorted(new.grades, key=lambda g: g.max_kg_co2e)],
            source=new.source, valid_from=new.valid_from, valid_until=new.valid_until,
            created_by=who.actor,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return _info(row)


def thresholds(session: Session, rule_id: str | None = None) -> list[ThresholdInfo]:
    with session.begin():
        query = select(ProcurementThreshold)
        if rule_id:
            query = query.where(ProcurementThreshold.rule_id == rule_id)
        rows = session.scalars(query.order_by(ProcurementThreshold.rule_id,
                                              ProcurementThreshold.valid_from))  # fmt: skip
        return [_info(r) for r in rows]


def assess(
    session: Session, rule_id: str, declared_unit: str, pcf: float, on: date
) -> ProcurementCheck | None:
    """The footprint against the setting in force on `on` for its rule and declared unit."""
    row = session.scalar(
        select(ProcurementThreshold)
        .where(in_force(on), ProcurementThreshold.rule_id == rule_id,
               ProcurementThreshold.declared_unit == normal_unit(declared_unit))
        .order_by(ProcurementThreshold.valid_from.desc(), ProcurementThreshold.id.desc())
        .limit(1)
    )  # fmt: skip
    if row is None:
        return None
    grade = next((g["grade"] for g in row.grades if pcf <= g["max_kg_co2e"]), None)
    limit = row.threshold_kg_co2e
    return ProcurementCheck(
        grade=grade, threshold_kg_co2e=limit, meets_threshold=None if limit is None else pcf <= limit,
        source=row.source, valid_from=row.valid_from.isoformat(),
        valid_until=row.valid_until.isoformat() if row.valid_until else None,
    )  # fmt: skip


def in_force(on: date, t: type[ProcurementThreshold] = ProcurementThreshold):
    return and_(t.valid_from <= on, or_(t.valid_until.is_(None), t.valid_until >= on))


def meets_condition(rule_col, unit_col, pcf_col, on: date):
    """SQL: the setting in force on `on` for the row's rule and declared unit (the latest, as
    `assess` picks it) has a threshold the row's footprint meets (the registry's filter)."""
    newer = aliased(ProcurementThreshold)
    t = ProcurementThreshold
    superseded = exists().where(
        in_force(on, newer), newer.rule_id == t.rule_id, newer.declared_unit == t.declared_unit,
        or_(newer.valid_from > t.valid_from,
            and_(newer.valid_from == t.valid_from, newer.id > t.id)),
    )  # fmt: skip
    return exists().where(
        in_force(on), t.rule_id == rule_col, t.declared_unit == unit_col,
        t.threshold_kg_co2e.is_not(None), pcf_col <= t.threshold_kg_co2e, ~superseded,
    )  # fmt: skip


def normal_unit(text: str) -> str:
    """'1 t', '1000 kg' -> as the registry writes declared units ('<amount:g> <unit>')."""
    amount, _, unit = text.strip().partition(" ")
    try:
        value = float(amount)
        quantity_of(unit.strip())
    except (ValueError, OpenpcfError):
        raise InvalidRequest(
            f"declared unit '{text}' must be '<amount> <unit>', e.g. '1 t'"
        ) from None
    return f"{value:g} {unit.strip()}"


def _info(row: ProcurementThreshold) -> ThresholdInfo:
    return ThresholdInfo(
        id=row.id, rule_id=row.rule_id, declared_unit=row.declared_unit,
        threshold_kg_co2e=row.threshold_kg_co2e,
        grades=[BenchmarkClass.model_validate(g) for g in row.grades], source=row.source,
        valid_from=row.valid_from, valid_until=row.valid_until, created_by=row.created_by,
    )  # fmt: skip
