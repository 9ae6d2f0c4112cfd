"""Changes the database itself refuses. The migrations' triggers guard what must never change
(model versions, calculations, published factor-set and rule versions, ledger and audit entries,
...) and fail with 'openpcf: <reason>'. The services refuse those changes first, so no code path
should reach a trigger; if one does, the interfaces show the reason (HTTP 409, one CLI line)
rather than a database traceback."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

PREFIX = "openpcf: "


def refused_change(exc: BaseException) -> str | None:
    """The trigger's reason when `exc` is a change one of our triggers refused, else None."""
    if not isinstance(exc, DBAPIError):
        return None
    text = str(exc.orig)
    if not text.startswith(PREFIX):  # the message is ours, not data quoted in another error
        return None
    # PostgreSQL appends the trigger's CONTEXT on further lines
    return text[len(PREFIX) :].splitlines()[0].strip()
