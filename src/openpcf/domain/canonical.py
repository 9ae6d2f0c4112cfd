"""Canonical JSON: the one byte form that certificates are signed over and ledger entries hashed.

The form is RFC 8785 (JSON Canonicalization Scheme): object keys sorted by their UTF-16 code
units, no whitespace, strings escaped as ECMAScript's JSON.stringify does (only '"', '\\' and
control characters; other characters as raw UTF-8), and numbers written as ECMAScript's
Number.prototype.toString writes them (shortest round-trip digits; 1e+21, 1e-7, 0.000001).
So any JCS implementation, in any language, reproduces the bytes a signature covers.

What JSON cannot carry is refused rather than mangled: NaN, infinities, lone surrogates, and
keys that are not strings.
"""

from __future__ import annotations

import json
import math
from typing import Any


class NotCanonicalizable(ValueError):
    """A value JSON (and so the canonical form) cannot represent."""


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of `value` (dicts, lists, str, int, float, bool, None)."""
    parts: list[str] = []
    _write(value, parts, "$")
    text = "".join(parts)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotCanonicalizable(f"lone surrogate in a string: {exc}") from None


def _write(value: Any, out: list[str], where: str) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(es_number(value, where))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise NotCanonicalizable(f"{where}: key {key!r} is not a string")
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: k.encode("utf-16-be"))):
            if i:
                out.append(",")
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _write(value[key], out, f"{where}.{key}")
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out, f"{where}[{i}]")
        out.append("]")
    else:
        raise NotCanonicalizable(f"{where}: {type(value).__name__} is not a JSON value")


def es_number(x: float, where: str = "$") -> str:
    """`x` as ECMAScript's Number.prototype.toString writes it (ECMA-262, 7.1.12.1)."""
    if math.isnan(x) or math.isinf(x):
        raise NotCanonicalizable(f"{where}: {x} is not a JSON number")
    if x == 0:
        return "0"  # and -0
    sign = "-" if x < 0 else ""
    # repr gives the shortest digits that round-trip, as ECMAScript requires; only the layout
    # (where the point goes, when to use an exponent) differs, and is redone here.
    mantissa, _, exponent = repr(abs(x)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # n: the position of the decimal point relative to the first significant digit
    n = len(whole) + int(exponent or 0) - (len(whole + fraction) - len(digits))
    digits = digits.rstrip("0") or "0"
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + exp


def parse_strict(text: str | bytes, what: str = "document") -> Any:
    """JSON parsed with duplicate keys refused: two readers must never see different values."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise NotCanonicalizable(f"{what}: key '{key}' appears twice")
            out[key] = value
        return out

    def constant(name: str) -> Any:
        raise NotCanonicalizable(f"{what}: {name} is not a JSON number")

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise NotCanonicalizable(
            f"{what}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
