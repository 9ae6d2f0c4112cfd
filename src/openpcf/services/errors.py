"""Errors of the platform's use cases; the API renders each with its own status and code."""

from __future__ import annotations

from typing import Any

from openpcf.domain.errors import ModelError, OpenpcfError


class PlatformError(OpenpcfError):
    code = "error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.details = details


class NotFound(PlatformError):
    """Absent, or not visible to the caller: the two are never told apart."""

    code = "not_found"


class Conflict(PlatformError):
    code = "conflict"


class Immutable(Conflict):
    code = "immutable"


class PermissionDenied(PlatformError):
    """The caller is known, and its role does not allow the action."""

    code = "forbidden"


class AuthenticationFailed(PlatformError):
    """No valid credentials: unknown, revoked or expired token, wrong client secret."""

    code = "unauthorized"


class InvalidRequest(PlatformError):
    code = "invalid_request"


class RuleViolation(PlatformError):
    """The model breaks its product rule and the caller did not allow violations."""

    code = "rule_violation"


class UnresolvedReference(ModelError):
    """A sub-assembly reference names no product of the tenant that has a model version."""

    code = "unresolved_reference"

    def __init__(self, message: str, reference: str, location: Any = None) -> None:
        super().__init__(message, location)
        self.reference = reference
