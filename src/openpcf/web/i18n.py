"""Translations of the web pages: English message ids, Chinese from gettext catalogues.

Templates write English text inside `_("...")`; every `.po` file under `web/i18n/<lang>/`
(one per feature, so helpers add theirs without touching another's) maps those ids to the
language. The language comes from the `lang` cookie (the switch in the page header), then the
browser's Accept-Language; Chinese is the default for a `zh` browser, English otherwise.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from importlib.resources import files

LANGUAGES = ("zh", "en")
DEFAULT = "en"
COOKIE = "lang"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """msgid → msgstr of every `.po` file of `lang` (empty for English, the source language)."""
    folder = files("openpcf.web").joinpath("i18n", lang)
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".po"):
            out.update(parse_po(entry.read_text("utf-8"), entry.name))
    return out


def parse_po(text: str, name: str = "<po>") -> dict[str, str]:
    """The msgid/msgstr pairs of a gettext catalogue (plain entries, multi-line strings)."""
    out: dict[str, str] = {}
    key: str | None = None
    parts: dict[str, list[str]] = {}
    current = ""

    def flush() -> None:
        if "msgid" in parts and "msgstr" in parts:
            mid, mstr = "".join(parts["msgid"]), "".join(parts["msgstr"])
            if mid and mstr:
                out[mid] = mstr
        parts.clear()

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                flush()
            continue
        m = re.fullmatch(r'(msgid|msgstr)\s+(".*")', line)
        if m:
            key = m.group(1)
            if key == "msgid" and "msgstr" in parts:
                flush()
            current = key
            parts[current] = [_string(m.group(2), name, number)]
        elif line.startswith('"') and key is not None:
            parts[current].append(_string(line, name, number))
        else:
            raise ValueError(f"{name}:{number}: expected msgid, msgstr or a quoted string")
    flush()
    return out


def _string(quoted: str, name: str, number: int) -> str:
    try:
        value = ast.literal_eval(quoted)
    except (ValueError, SyntaxError) as e:
        raise ValueError(f"{name}:{number}: not a quoted string: {quoted}") from e
    if not isinstance(value, str):
        raise ValueError(f"{name}:{number}: not a quoted string: {quoted}")
    return value


def translate(lang: str, message: str, **values: object) -> str:
    """The message in `lang`, with `{name}` placeholders filled from `values`."""
    text = catalogue(lang).get(message, message) if lang != "en" else message
    return text.format(**values) if values else text


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The page language: the cookie if valid, else the first supported Accept-Language."""
    if cookie in LANGUAGES:
        return str(cookie)
    for lang, _q in sorted(_accepted(accept_language or ""), key=lambda x: -x[1]):
        base = lang.split("-")[0].lower()
        if base in LANGUAGES:
            return base
    return DEFAULT


def _accepted(header: str) -> list[tuple[str, float]]:
    out = []
    for item in header.split(","):
        piece = item.strip()
        if not piece:
            continue
        lang, _, params = piece.partition(";")
        q = 1.0
        m = re.search(r"q=([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        out.append((lang.strip(), q))
    return out
