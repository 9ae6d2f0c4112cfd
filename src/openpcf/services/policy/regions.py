"""A province as the tracker shows it, and the three map views of China.

Everything here is public: policies, published grid factors, and certificates that their
holders published to the registry (never a private product).
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from openpcf.domain.factor import Factor
from openpcf.domain.policy import PolicyDocument, PolicyStatus, PolicyType
from openpcf.domain.regions import NATIONAL, PROVINCES, Province, province
from openpcf.factors.bundled import bundled_set
from openpcf.services.certification import registry
from openpcf.services.errors import NotFound
from openpcf.services.policy.documents import PolicyFilter, current, matches

DATA_CENTRE_METRIC = "data-centre-renewable-share"
# A province's policy state on the map: the strongest status among its own documents.
NONE, DRAFT, ISSUED = "none", "draft", "issued"
_ISSUED = (PolicyStatus.issued, PolicyStatus.in_force)


class GridFactor(BaseModel):
    year: int
    kg_co2_per_kwh: float
    factor_id: str
    source: str


class DataCentreRequirement(BaseModel):
    policy: str  # the document's id
    requirement: str


class ProvinceView(BaseModel):
    """A province's page: its own documents, the national ones, grid factors, certificates."""

    province: Province
    policies: list[PolicyDocument] = Field(description="the province's own documents, newest first")
    national: list[PolicyDocument] = Field(description="national documents issued or in force")
    grid: list[GridFactor] = Field(description="published grid CO2 factors by year")
    certified: list[registry.RegistryEntry] = Field(description="published certificates")
    pilots: list[PolicyDocument]
    data_centre_requirements: list[DataCentreRequirement]


class PolicyState(BaseModel):
    state: str  # none | draft | issued
    issued: int
    drafts: int


def province_view(session: Session, code: str) -> ProvinceView:
    p = province(code)
    if p is None:
        raise NotFound(f"no province '{code}': expected an ISO 3166-2:CN code such as CN-JS")
    docs = list(current(session).values())
    own = [d for d in docs if matches(d, PolicyFilter(region=p.code))]
    return ProvinceView(
        province=p,
        policies=own,
        national=[d for d in docs if NATIONAL in d.regions and d.status in _ISSUED],
        grid=grid_factors(p.code),
        certified=registry.search(session, province=p.code, limit=200),
        pilots=[d for d in own if PolicyType.pilot in d.types],
        data_centre_requirements=[
            DataCentreRequirement(policy=d.id, requirement=r.text)
            for d in own
            for r in d.requirements
            if r.metric == DATA_CENTRE_METRIC
        ],
    )


def grid_factors(code: str) -> list[GridFactor]:
    """The published grid CO2 factors of a region, by year (MEE/NBS announcements)."""
    out = [
        GridFactor(year=f.year, kg_co2_per_kwh=_co2(f), factor_id=f.id, source=f.source or "")
        for f in bundled_set().factors
        if f.kind == "grid-co2" and f.region == code and f.year is not None
    ]
    return sorted(out, key=lambda g: g.year)


def grid_years() -> list[int]:
    return sorted({f.year for f in bundled_set().factors if f.kind == "grid-co2" and f.year})


def grid_map(year: int) -> dict[str, float]:
    """Province code → grid CO2 factor of `year` (kg CO2/kWh); provinces without one absent."""
    return {
        f.region: _co2(f)
        for f in bundled_set().factors
        if f.kind == "grid-co2" and f.year == year and f.region and f.region != NATIONAL
    }


def policy_states(session: Session) -> dict[str, PolicyState]:
    """Every province's policy state from its own documents (national ones not counted)."""
    docs = list(current(session).values())
    out: dict[str, PolicyState] = {}
    for p in PROVINCES:
        own = [d for d in docs if p.code in d.regions]
        issued = sum(d.status in _ISSUED for d in own)
        drafts = sum(d.status == PolicyStatus.draft for d in own)
        state = ISSUED if issued else (DRAFT if drafts else NONE)
        out[p.code] = PolicyState(state=state, issued=issued, drafts=drafts)
    return out


def certified_by_province(session: Session) -> dict[str, int]:
    """Published certificates by the product's province (the public registry's count)."""
    return dict(registry.coverage(session).by_province)


def policies_without_certificates(session: Session) -> list[Province]:
    """Provinces that issued a policy of their own but have no published certificate yet."""
    states = policy_states(session)
    certified = certified_by_province(session)
    return [p for p in PROVINCES if states[p.code].state == ISSUED and not certified.get(p.code)]


def _co2(f: Factor) -> float:
    if f.co2e is not None:
        return f.co2e
    return float((f.gases or {})["CO2"])  # a grid-co2 factor states CO2; KeyError if not


def certifying_policy(session: Session, code: str | None, issued: str) -> PolicyDocument | None:
    """The labelling and certification policy a certificate of province `code` issued on date
    `issued` (YYYY-MM-DD) was issued under: the province's newest issued one, else the nation's."""
    docs = [
        d
        for d in current(session).values()
        if PolicyType.labelling in d.types and d.status in _ISSUED and d.date <= issued
    ]
    for scope in ([code] if code else []) + [NATIONAL]:
        found = [d for d in docs if scope in d.regions]
        if found:
            return max(found, key=lambda d: d.date)
    return None
