"""PACT v2 ListFootprints `$filter`: the subset of OData v4 the v2.3 specification allows.

v2.3 (Action ListFootprints, request parameter Filter) permits only: `eq lt le gt ge` on
`created`, `updated`, `productCategoryCpc`, `pcf/geographyCountry`, `pcf/referencePeriodStart`,
`pcf/referencePeriodEnd`; `and`; and `any` with `eq` on `productIds` and `companyIds`, e.g.

    (pcf/referencePeriodStart ge '2023-01-01T00:00:00.000Z') and productIds/any(p:(p eq 'urn:x'))

A statement outside that subset (`or`, `not`, another property, a function) is refused with
NotImplemented, as the spec asks of a host that does not support it; a statement that is not
OData at all is a BadRequest. Date-time properties compare as instants (RFC 3339 literals),
the others as strings. A footprint lacking the property does not match.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from openpcf.services.exchange.footprints import PactApiError, bad_request, parse_datetime

Predicate = Callable[[dict[str, Any]], bool]

#: Longest statement read (a filter is a few clauses; this bounds the parser's work).
MAX_FILTER = 2000

_COMPARABLE = {
    "created": ("created",),
    "updated": ("updated",),
    "productCategoryCpc": ("productCategoryCpc",),
    "pcf/geographyCountry": ("pcf", "geographyCountry"),
    "pcf/referencePeriodStart": ("pcf", "referencePeriodStart"),
    "pcf/referencePeriodEnd": ("pcf", "referencePeriodEnd"),
}
_MOMENTS = {"created", "updated", "pcf/referencePeriodStart", "pcf/referencePeriodEnd"}
_COLLECTIONS = ("productIds", "companyIds")
_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
}
_TOKEN = re.compile(r"\s*(?:('(?:[^']|'')*')|([A-Za-z_][A-Za-z0-9_]*)|([()/:])|(\S))")


def not_implemented(message: str) -> PactApiError:
    return PactApiError(400, "NotImplemented", message)


def _tokens(text: str) -> list[str]:
    out = []
    for match in _TOKEN.finditer(text):
        literal, word, punct, other = match.groups()
        if other is not None:
            raise bad_request(f"$filter: unexpected '{other}'")
        out.append(literal or word or punct)
    return out


def _instant(text: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().upper().replace("Z", "+00:00"))
    except ValueError:
        raise bad_request(f"$filter: {where}: '{text}' is not an RFC 3339 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            want = f"'{expected}'" if expected else "more"
            raise bad_request(f"$filter: expected {want}, found {token or 'the end'}")
        self.at += 1
        return token

    def literal(self) -> str:
        token = self.take()
        if not token.startswith("'"):
            raise not_implemented(f"$filter: only string literals are supported, not {token}")
        return token[1:-1].replace("''", "'")

    def statement(self) -> Predicate:
        predicate = self.conjunction()
        if self.peek() is not None:
            token = self.peek()
            if token in ("or", "not"):
                raise not_implemented(f"$filter: '{token}' is not supported (PACT v2: 'and')")
            raise bad_request(f"$filter: unexpected '{token}'")
        return predicate

    def conjunction(self) -> Predicate:
        parts = [self.term()]
        while self.peek() == "and":
            self.take()
            parts.append(self.term())
        return lambda doc: all(part(doc) for part in parts)

    def term(self) -> Predicate:
        if self.peek() == "(":
            self.take()
            inner = self.conjunction()
            if self.peek() == "or":
                raise not_implemented("$filter: 'or' is not supported (PACT v2: 'and')")
            self.take(")")
            return inner
        name = self.take()
        if name == "not":
            raise not_implemented("$filter: 'not' is not supported (PACT v2: 'and')")
        if self.peek() == "/":
            self.take()
            second = self.take()
            if second == "any":
                return self.lambda_any(name)
            name = f"{name}/{second}"
        if name not in _COMPARABLE:
            raise not_implemented(
                f"$filter: property '{name}' is not supported; PACT v2 allows "
                + ", ".join(_COMPARABLE)
                + " and productIds/any, companyIds/any"
            )
        op = self.take()
        if op not in _OPERATORS:
            raise not_implemented(f"$filter: operator '{op}' is not supported (eq lt le gt ge)")
        value = self.literal()
        path, compare = _COMPARABLE[name], _OPERATORS[op]
        if name in _MOMENTS:
            wanted: Any = _instant(value, name)

            def moment(doc: dict[str, Any]) -> bool:
                have = parse_datetime(_get(doc, path))  # not a date-time: no match
                return have is not None and compare(have, wanted)

            return moment
        return lambda doc: isinstance(_get(doc, path), str) and compare(_get(doc, path), value)

    def lambda_any(self, collection: str) -> Predicate:
        if collection not in _COLLECTIONS:
            raise not_implemented(f"$filter: any() on '{collection}' is not supported")
        self.take("(")
        var = self.take()
        self.take(":")
        nested = self.peek() == "("
        if nested:
            self.take()
        if self.take() != var:
            raise bad_request(f"$filter: {collection}/any: compare the variable '{var}'")
        if self.take() != "eq":
            raise not_implemented(f"$filter: {collection}/any allows 'eq' only")
        value = self.literal()
        if nested:
            self.take(")")
        self.take(")")
        return lambda doc: value in (doc.get(collection) or [])


def _get(doc: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = doc
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def parse_filter(text: str) -> Predicate:
    """The predicate of a v2 `$filter` statement; raises PactApiError (400 BadRequest or
    NotImplemented) for a statement openpcf cannot read."""
    if len(text) > MAX_FILTER:
        raise bad_request(f"$filter: longer than {MAX_FILTER} characters")
    if not text.strip():
        return lambda doc: True
    return _Parser(text).statement()
