"""Helpers shared by the page modules: database sessions, service errors as page messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from sqlalchemy.orm import Session

from openpcf.domain.errors import MultiError, OpenpcfError
from openpcf.services.errors import NotFound, PlatformError
from openpcf.web.auth import WebNotFound

T = TypeVar("T")


def db(request: Request, read_only: bool = False) -> Session:
    """A new session for one service call (services open their own transactions)."""
    return request.app.state.sessions(read_only=read_only)


def call(request: Request, use_case: Callable[..., T], *args: object, **kwargs: object) -> T:
    """A service call on a fresh session; its NotFound becomes the 404 page."""
    with db(request) as session:
        try:
            return use_case(session, *args, **kwargs)
        except NotFound as e:
            raise WebNotFound() from e


def problems(exc: OpenpcfError) -> list[str]:
    """The error's messages, each with its place (file, line, field, sheet and cell)."""
    if isinstance(exc, MultiError):
        return [str(e) for e in exc.errors]
    lines = [str(exc)]
    details = exc.details if isinstance(exc, PlatformError) else None
    if isinstance(details, list):
        for d in details:
            if isinstance(d, dict) and "message" in d:
                where = f"{d.get('file') or ''}:{d['line']}: " if d.get("line") else ""
                fix = f" — {d['fix']}" if d.get("fix") else ""
                lines.append(f"{where}{d['message']}{fix}")
    return lines
