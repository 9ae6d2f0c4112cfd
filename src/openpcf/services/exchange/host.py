"""The PACT data exchange as a host system: the events a partner sends (a request is stored and
answered by `delivery`) and the OpenID configuration; the footprints served, and the criteria
they are listed by, are in `footprints`.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.orm import Session

from openpcf.domain.platform import Principal, SupplierRequestStatus
from openpcf.io.pact.schema import PactVersion
from openpcf.services.exchange import delivery as pact_delivery
from openpcf.services.exchange.footprints import (
    EVENT_TYPES,
    bad_request,
    parse_datetime,
    request_criteria,
)
from openpcf.services.platform.access import signed_in, writer
from openpcf.store.models import SupplierRequest

log = logging.getLogger("openpcf.pact")


def handle_event(
    session: Session, who: Principal, version: PactVersion, event: Any, our_source: str
) -> bool:
    """Validate a CloudEvent (structured mode) and act on it; True when a request for
    footprints was queued for an answer.

    A request (RequestCreated) is accepted only if openpcf can answer it: its `source` must be
    an allowed callback host, else 400 at once ("If the data owner can immediately determine
    that it will not be able to handle this request it MUST respond with an appropriate 4xx",
    v3 openapi, RequestCreatedEvent). It is queued for the delivery worker and, when it names a
    product, recorded as a supplier request of the caller's tenant. Notices (Published) and
    answers (Fulfilled, Rejected) are checked and acknowledged."""
    signed_in(who)
    if not isinstance(event, dict):
        raise bad_request("the body must be a CloudEvent (a JSON object)")
    for key in ("type", "specversion", "id", "source"):
        if not isinstance(event.get(key), str) or not event[key]:
            raise bad_request(f"the event has no '{key}'")
    if event["specversion"] != "1.0":
        raise bad_request(f"specversion '{event['specversion']}': openpcf reads CloudEvents 1.0")
    types = EVENT_TYPES[version]
    if event["type"] not in types.values():
        raise bad_request(
            f"unsupported event type '{event['type']}'; expected one of "
            + ", ".join(types.values())
        )
    moment = event.get("time")
    if version == "3" and moment is None:
        raise bad_request("the event has no 'time' (required by PACT v3 BaseEvent)")
    if moment is not None and (not isinstance(moment, str) or parse_datetime(moment) is None):
        raise bad_request(f"time: '{moment}' is not an RFC 3339 date-time")
    data = event.get("data")
    if not isinstance(data, dict):
        raise bad_request("the event has no 'data' object")
    kind = next(k for k, t in types.items() if t == event["type"])
    if kind == "published":
        ids = data.get("pfIds")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise bad_request("data.pfIds must be a non-empty list of footprint ids")
        return False
    if kind in ("fulfilled", "rejected"):
        if not isinstance(data.get("requestEventId"), str):
            raise bad_request("data.requestEventId must be the id of the request answered")
        if kind == "fulfilled" and not isinstance(data.get("pfs"), list):
            raise bad_request("data.pfs must be a list of ProductFootprints")
        error = data.get("error")
        if kind == "rejected" and not (
            isinstance(error, dict)
            and isinstance(error.get("code"), str)
            and isinstance(error.get("message"), str)
        ):
            raise bad_request("data.error must be an error response {code, message}")
        return False
    criteria = request_criteria(version, data)
    try:
        target = pact_delivery.callback_url(event["source"], version)
    except pact_delivery.CallbackRefused as exc:
        log.warning("PACT request %s refused: %s", event["id"], exc)
        raise bad_request(str(exc)) from None
    ids = criteria.get("productId") or []
    comment = data.get("comment")
    message = f"PACT v{version} request event {event['id']} from {event['source']}: {criteria}"
    if isinstance(comment, str) and comment:
        message += f"; comment: {comment}"
    with session.begin():
        writer(session, who)
        pact_delivery.enqueue_request(
            session, who, version, target, event["id"], criteria, our_source
        )
        if ids:
            session.add(
                SupplierRequest(
                    uuid=str(uuid.uuid4()),
                    tenant_id=who.tenant_id,
                    requested_by=who.subject,
                    supplier_host=event["source"][:300],
                    product_id=ids[0][:300],
                    status=SupplierRequestStatus.pending.value,
                    message=message[:5000],
                )
            )
    return True


def openid_configuration(base: str) -> dict[str, Any]:
    base = base.rstrip("/")
    return {
        "issuer": base,
        "token_endpoint": f"{base}/auth/token",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "response_types_supported": ["token"],
        "subject_types_supported": ["public"],
    }
