"""Tables of the PACT exchange (see migration 0004): outgoing events to partners' Events
endpoints, each delivered with retries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from openpcf.store.models import Base


class PactDelivery(Base):
    """One event for a partner's Events endpoint (PACT v3 rest-api "Action Events").

    A request for footprints (RequestCreated) arrives as a row of kind `request`; answering it
    turns the row into `fulfilled` or `rejected` with the event to send. `published` rows
    announce new footprints to partners that were sent a product's footprints before. Status:
    pending (to send at `next_attempt_at`), delivered, failed (gave up after the last attempt),
    refused (the target host is not allowed; `last_error` says why)."""

    __tablename__ = "pact_deliveries"
    __table_args__ = (Index("ix_pact_deliveries_status_next", "status", "next_attempt_at"),)
    __audit_omit__ = frozenset({"event"})

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the outgoing event's id
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    version: Mapped[str] = mapped_column(String(1))  # PACT "2" or "3"
    kind: Mapped[str] = mapped_column(String(20))
    target_url: Mapped[str] = mapped_column(String(1000))
    requested_by: Mapped[str] = mapped_column(String(400))  # the requesting client or user
    requester_role: Mapped[str] = mapped_column(String(20))
    request_event_id: Mapped[str | None] = mapped_column(String(300))
    criteria: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    event: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pf_ids: Mapped[list[str] | None] = mapped_column(JSON)
    product_ids: Mapped[list[str] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
