"""Tables of the policy and standards tracker (see migration 0008 and `services/policy/`).

`policy_versions` holds every version a regulator wrote of a document; the bundled seed
(`rules/policies/seed.yaml`) is each seeded document's version 1 and is not stored. A version is
immutable once written (database triggers refuse UPDATE and DELETE), so a published text never
changes; an edit, a supersession or a repeal is a new version.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base


class PolicyVersion(Base):
    """One version of a policy or standard document, as written by a regulator."""

    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), index=True)
    version: Mapped[int] = mapped_column(Integer)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)  # the PolicyInput, as JSON
    change_note: Mapped[str] = mapped_column(Text, server_default="")
    changed_by: Mapped[str] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
