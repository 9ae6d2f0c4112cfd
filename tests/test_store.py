"""The platform store: migrations, immutability enforced by the database, and the audit log,
against SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy import UniqueConstraint as Unique
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from openpcf.domain.factor import Factor
from openpcf.domain.platform import (
    CalculationRequest,
    FactorSetCreate,
    FactorSetUpdate,
    Principal,
    ProductCreate,
    ProductUpdate,
    Role,
    SupplierRequestCreate,
    SupplierRequestStatus,
)
from openpcf.services.calculation import stored as calculations
from openpcf.services.catalogue import factor_sets, products
from openpcf.services.errors import Immutable
from openpcf.services.exchange import supplier_requests
from openpcf.services.platform import accounts
from openpcf.store.audit import UnattributedWrite
from openpcf.store.db import head_revision, new_engine, sessions, upgrade
from openpcf.store.models import AuditEntry, Base, FactorSetVersion, Product, Tenant

TABLES = {
    "alembic_version",
    "certificate_claims",
    "tenants",
    "users",
    "api_clients",
    "personal_tokens",
    "access_tokens",
    "products",
    "model_versions",
    "factor_set_versions",
    "calculations",
    "supplier_requests",
    "audit_log",
    "pact_deliveries",
    "certification_submissions",
    "certification_events",
    "certification_certificates",
    "signing_keys",
    "ledger_entries",
    "monitoring_sites",
    "monitoring_meters",
    "monitoring_allowances",
    "monitoring_readings",
    "monitoring_rejected",
    "monitoring_aggregates",
    "recompute_factor_sets",
    "recompute_factors",
    "calculation_usage",
    "recompute_runs",
    "recomputed_footprints",
    "web_sessions",
    "sign_in_failures",
    "ledger_checkpoints",
    "policy_versions",
    "green_certificate_issuances",
    "certificate_claim_conflicts",
    "rule_versions",
    "procurement_thresholds",
}
MODEL = """
openpcf: 1
product: {name: Widget, declared_unit: {amount: 1, unit: kg}, region: CN-JS, year: 2023}
inputs:
  - {name: Steel, stage: raw-materials, amount: 1.5, unit: kg, factor: acme/steel}
  - {name: Power, stage: production, amount: 10, unit: kWh, electricity: {basis: grid-co2}}
"""
STEEL = Factor(id="acme/steel", name="Steel", unit="kg", co2e=2.0, gwp="AR5", source="survey")


def admin_of(session_factory: sessionmaker, tenant: str) -> Principal:
    with session_factory() as s:
        t = s.scalar(select(Tenant).where(Tenant.slug == tenant))
        assert t is not None
    return Principal(
        kind="user",
        subject=f"admin@{tenant}.example",
        tenant=tenant,
        tenant_id=t.id,
        role=Role.admin,
    )


def test_migrations_upgrade_an_empty_database_to_the_models(database_url: str) -> None:
    engine = new_engine(database_url)
    assert upgrade(engine) == [f"{i:04d}" for i in range(1, 13)]  # 0001 ... 0012
    assert upgrade(engine) == []  # already at head: nothing to do
    with engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) == TABLES
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], "the models and the migrations differ: add a migration"
    assert head_revision() == "0012"
    engine.dispose()


def test_a_database_from_before_migrations_is_adopted_with_its_claims(database_url: str) -> None:
    """create_all made certificate_claims before migrations existed; upgrading keeps the rows."""
    old = MetaData()
    Table(
        "certificate_claims",
        old,
        Column("id", Integer, primary_key=True),
        Column("tenant", String(200), nullable=False),
        Column("certificate_id", String(200), nullable=False),
        Column("product", String(500), nullable=False),
        Column("kwh", Float, nullable=False),
        Column("generation", String(50), nullable=False),
        Column("claimed_at", DateTime(timezone=True), server_default=func.now(), nullable=False),
        Column("claimed_by", String(200), nullable=False),
        Unique("tenant", "certificate_id"),
    )
    engine = new_engine(database_url)
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO certificate_claims (tenant, certificate_id, product, kwh, "
                "generation, claimed_by) VALUES ('t', 'GEC-1', 'p', 1.0, 'wind', 'me')"
            )
        )
    assert upgrade(engine) == [f"{i:04d}" for i in range(2, 13)]  # 0002 ... 0012
    with engine.connect() as conn:
        assert conn.execute(text("SELECT certificate_id FROM certificate_claims")).all() == [
            ("GEC-1",)
        ]
    engine.dispose()


@pytest.fixture
def store(database_url: str) -> sessionmaker:
    factory = sessions(database_url)
    op = accounts.operator("tester")
    accounts.create_tenant(factory(), op, "acme", "Acme")
    accounts.create_user(factory(), op, "acme", "admin@acme.example", Role.admin)
    return factory


def test_a_published_factor_set_version_is_immutable(store: sessionmaker) -> None:
    who = admin_of(store, "acme")
    new = FactorSetCreate(name="survey", version="1", title="Survey", factors=[STEEL])
    factor_sets.create_factor_set(store(), who, new)
    # a draft may change
    changed = factor_sets.update_factor_set(
        store(), who, "survey", "1", FactorSetUpdate(title="Survey 2024")
    )
    assert changed.title == "Survey 2024" and changed.published_at is None
    published = factor_sets.publish_factor_set(store(), who, "survey", "1")
    assert published.published_at is not None and published.published_by == who.subject
    with pytest.raises(Immutable, match="published and cannot change"):
        factor_sets.update_factor_set(store(), who, "survey", "1", FactorSetUpdate(title="x"))
    with pytest.raises(Immutable, match="already published"):
        factor_sets.publish_factor_set(store(), who, "survey", "1")
    # the database refuses it too, whoever writes
    for statement in (
        "UPDATE factor_set_versions SET title = 'sneaky'",
        "DELETE FROM factor_set_versions",
    ):
        with store() as s, pytest.raises(DBAPIError, match="published factor set versions"):
            s.execute(text(statement))
    with store() as s:
        row = s.scalar(select(FactorSetVersion))
        assert row is not None and row.title == "Survey 2024"


def test_model_versions_calculations_and_the_audit_log_refuse_changes(store: sessionmaker) -> None:
    who = admin_of(store, "acme")
    products.create_product(store(), who, ProductCreate(slug="widget", name="Widget"))
    urn = "urn:openpcf:product:acme:widget"
    products.add_model_version(
        store(),
        who,
        urn,
        MODEL.replace("factor: acme/steel", "pcf: {value: 2, unit: kg CO2e/kg, source: s}"),
        "application/yaml",
    )
    calculations.run_calculation(store(), who, urn, CalculationRequest())
    for statement, message in (
        ("UPDATE model_versions SET text = 'x'", "model versions are immutable"),
        ("DELETE FROM model_versions", "model versions are immutable"),
        ("UPDATE calculations SET pcf = 0", "calculations are immutable"),
        ("UPDATE audit_log SET actor = 'nobody'", "append-only"),
        ("DELETE FROM audit_log", "append-only"),
    ):
        with store() as s, pytest.raises(DBAPIError, match=message):
            s.execute(text(statement))


def test_every_write_is_in_the_audit_log_with_who_made_it(store: sessionmaker) -> None:
    who = admin_of(store, "acme")
    op = accounts.operator("tester")
    accounts.create_client(store(), op, "acme", "erp")
    accounts.issue_access_token(store(), *_client(store))
    accounts.issue_personal_token(store(), op, "admin@acme.example", "again", replace=True)
    accounts.issue_personal_token(store(), op, "admin@acme.example", "again", replace=True)
    products.create_product(store(), who, ProductCreate(slug="widget", name="Widget"))
    urn = "urn:openpcf:product:acme:widget"
    products.update_product(store(), who, urn, ProductUpdate(visibility="public"))
    factor_sets.create_factor_set(
        store(), who, FactorSetCreate(name="survey", version="1", title="Survey", factors=[STEEL])
    )
    factor_sets.publish_factor_set(store(), who, "survey", "1")
    products.add_model_version(store(), who, urn, MODEL, "application/yaml")
    calculations.run_calculation(store(), who, urn, CalculationRequest(factor_sets=["survey@1"]))
    req = supplier_requests.create_request(
        store(), who, SupplierRequestCreate(supplier_host="pcf.example", product_id="urn:x")
    )
    supplier_requests.set_status(store(), who, req.id, SupplierRequestStatus.sent)

    with store() as s:
        entries = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        created = {(e.entity, e.entity_id) for e in entries if e.action == "create"}
        # every row of every audited table has its creation entry
        per_batch = {m.local_table.name for m in Base.registry.mappers
                     if m.class_.__audit_per_batch__}  # fmt: skip
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_log" or table.name in per_batch:
                continue
            for (pk,) in s.execute(select(table.c.id)):
                assert (table.name, str(pk)) in created, f"{table.name} {pk} was not audited"
    assert all(e.actor and e.at for e in entries)
    assert all(e.tenant == "acme" for e in entries)
    update = next(e for e in entries if e.entity == "products" and e.action == "update")
    assert update.actor == "user:admin@acme.example"
    assert update.details == {"visibility": ["private", "public"]}
    token_deleted = [e for e in entries if e.entity == "personal_tokens" and e.action == "delete"]
    assert len(token_deleted) == 1 and token_deleted[0].actor == "operator:tester"
    publish = next(e for e in entries if e.entity == "factor_set_versions" and e.action == "update")
    assert set(publish.details) == {"published_at", "published_by"}
    # secrets and documents are not copied into the log
    secrets = [
        e.details
        for e in entries
        if e.entity in ("personal_tokens", "access_tokens") and e.action == "create"
    ]
    assert secrets and all(d["token_hash"] == "<omitted>" for d in secrets)
    version = next(e for e in entries if e.entity == "model_versions")
    assert version.details["text"] == "<omitted>" and len(version.details["sha256"]) == 64
    status = next(e for e in entries if e.entity == "supplier_requests" and e.action == "update")
    assert status.details["status"] == ["pending", "sent"]


def _client(store: sessionmaker) -> tuple[str, str]:
    creds = accounts.rotate_client_secret(
        store(), accounts.operator("tester"), _client_id(store, "erp")
    )
    return creds.client_id, creds.client_secret


def _client_id(store: sessionmaker, name: str) -> str:
    from openpcf.store.models import ApiClient

    with store() as s:
        return s.scalar(select(ApiClient.client_id).where(ApiClient.name == name))  # type: ignore[return-value]


def test_a_write_without_an_actor_is_refused(store: sessionmaker) -> None:
    with store() as s:
        tenant = s.scalar(select(Tenant))
        s.add(
            Product(
                tenant_id=tenant.id,
                slug="x",
                urn="urn:openpcf:product:acme:x",
                name="x",
                visibility="private",
                created_by="?",
            )
        )
        with pytest.raises(UnattributedWrite, match="without an actor"):
            s.commit()
        s.rollback()
    with store() as s:
        assert s.scalar(select(Product)) is None


def test_passwords_and_client_secrets_are_stored_as_scrypt_hashes() -> None:
    stored = accounts.hash_secret("correct horse")
    assert stored.startswith("scrypt$16384$8$1$") and "correct horse" not in stored
    assert accounts.verify_secret("correct horse", stored)
    assert not accounts.verify_secret("wrong", stored)
    assert accounts.hash_secret("correct horse") != stored  # salted
    assert not accounts.verify_secret("x", None) and not accounts.verify_secret("x", "md5$x")


def test_a_user_signs_in_with_a_password(store: sessionmaker) -> None:
    op = accounts.operator("tester")
    accounts.create_user(
        store(), op, "acme", "Bo@Acme.example", Role.verifier, password="s3cret horse battery"
    )
    who = accounts.user_password_ok(store(), "bo@acme.example", "s3cret horse battery")
    assert who is not None and who.tenant == "acme" and who.role is Role.verifier
    assert accounts.user_password_ok(store(), "bo@acme.example", "wrong") is None
    assert accounts.user_password_ok(store(), "admin@acme.example", "") is None  # no password set


def test_demo_loading_twice_adds_nothing(database_url: str) -> None:
    from openpcf.services.platform.demo import load_demo

    factory = sessions(database_url)
    first = load_demo(factory)
    counts = _counts(factory)
    second = load_demo(factory)
    assert _counts(factory) == counts
    assert counts["tenants"] == 4 and counts["products"] == 5 and counts["calculations"] == 6
    assert counts["personal_tokens"] == 7 and counts["api_clients"] == 2
    assert [c[2] for c in first.calculations] == [c[2] for c in second.calculations]
    # the earlier tokens stop working; the new ones work
    assert first.tokens[0][3] != second.tokens[0][3]
    with pytest.raises(Exception, match="invalid token"):
        accounts.principal_for_token(factory(), first.tokens[0][3])
    assert accounts.principal_for_token(factory(), second.tokens[0][3]).tenant == "demo"


def _counts(factory: sessionmaker) -> dict[str, int]:
    with factory() as s:
        return {
            t.name: s.execute(select(func.count()).select_from(t)).scalar_one()
            for t in Base.metadata.sorted_tables
            if t.name != "audit_log"
        }
