"""Requests to suppliers for product footprints. This module records them; sending them to the
supplier's host and storing the answer is the PACT exchange's work (`set_status`)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from openpcf.domain.platform import (
    Principal,
    SupplierRequestCreate,
    SupplierRequestInfo,
    SupplierRequestStatus,
)
from openpcf.services.errors import NotFound
from openpcf.services.platform.access import own, signed_in, writer
from openpcf.services.platform.accounts import now, utc
from openpcf.store.models import SupplierRequest


def create_request(
    session: Session, who: Principal, new: SupplierRequestCreate
) -> SupplierRequestInfo:
    with session.begin():
        writer(session, who)
        row = SupplierRequest(
            uuid=str(uuid.uuid4()),
            tenant_id=who.tenant_id,
            requested_by=who.subject,
            supplier_host=new.supplier_host,
            product_id=new.product_id,
            status=SupplierRequestStatus.pending.value,
            message=new.message,
        )
        session.add(row)
        session.flush()
        return _info(row, who.tenant or "")


def list_requests(
    session: Session, who: Principal, status: SupplierRequestStatus | None = None
) -> list[SupplierRequestInfo]:
    with session.begin():
        signed_in(who)
        query = select(SupplierRequest).where(own(who, SupplierRequest.tenant_id))
        if status is not None:
            query = query.where(SupplierRequest.status == status.value)
        rows = session.scalars(query.order_by(SupplierRequest.created_at.desc()))
        return [_info(r, who.tenant or "") for r in rows]


def get_request(session: Session, who: Principal, request_id: str) -> SupplierRequestInfo:
    with session.begin():
        return _info(_own(session, who, request_id), who.tenant or "")


def set_status(
    session: Session,
    who: Principal,
    request_id: str,
    status: SupplierRequestStatus,
    message: str | None = None,
    result: str | None = None,
) -> SupplierRequestInfo:
    """Move a request on (sent, fulfilled, rejected, failed), e.g. from the PACT client, with
    what the supplier answered (`result`, JSON text)."""
    with session.begin():
        writer(session, who)
        row = _own(session, who, request_id)
        row.status = status.value
        if message is not None:
            row.message = message
        if result is not None:
            row.result = result
        row.updated_at = now()
        session.flush()
        return _info(row, who.tenant or "")


def _own(session: Session, who: Principal, request_id: str) -> SupplierRequest:
    signed_in(who)
    row = session.scalar(
        select(SupplierRequest).where(
            SupplierRequest.uuid == request_id, own(who, SupplierRequest.tenant_id)
        )
    )
    if row is None:
        raise NotFound(f"no supplier request {request_id}")
    return row


def _info(row: SupplierRequest, tenant: str) -> SupplierRequestInfo:
    return SupplierRequestInfo(
        id=row.uuid,
        tenant=tenant,
        requested_by=row.requested_by,
        supplier_host=row.supplier_host,
        product_id=row.product_id,
        status=SupplierRequestStatus(row.status),
        message=row.message,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )
