"""The engine's notes and warnings in the page's language.

The engine writes its notes in English with values filled in; each template below is such a
message with `{placeholders}`, and the Chinese of each is in i18n/zh/notes.po under the same
English text. A note that matches no template is shown as the engine wrote it.
"""

from __future__ import annotations

import re
from functools import cache

from jinja2 import pass_context
from jinja2.runtime import Context

from openpcf.domain.regions import region_name
from openpcf.web import i18n

TEMPLATES = (
    "no provincial electricity carbon-footprint factor is published for {region}; the national "
    "{year} value {value} kg CO2e/kWh is used",
    "no MEE grid CO2 factor for {region} in {year}; the national value is used instead of the "
    "provincial one",
    "CO2e values given without a stated GWP set are used as given in this {gwp} result",
    "CO2e values given under {basis} are used as given in this {gwp} result",
    "factor {id} is marked {flag} in its source data (not confirmed against the official text; "
    "`openpcf factors show {id2}` says why)",
    "the model states electricity basis '{stated}'; profile {profile} asks for '{asked}'",
)


# English for the web where the engine's text points at the command line.
WEB_ENGLISH = {
    TEMPLATES[4]: "factor {id} is marked {flag} in its source data (not confirmed against the "
    "official text; the factor's note says why)",
}


@cache
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    out = []
    for template in TEMPLATES:
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(
            re.escape(p) if i % 2 == 0 else f"(?P<{p}>.+?)" for i, p in enumerate(parts)
        )
        out.append((re.compile(f"^{regex}$"), template))
    return tuple(out)


def translate_note(message: str, lang: str) -> str:
    """The note in `lang`: its template's translation with the note's values (regions named)."""
    for pattern, template in _patterns():
        m = pattern.match(message)
        if m is None:
            continue
        if lang == "en":
            web = WEB_ENGLISH.get(template)
            return web.format(**m.groupdict()) if web else message
        if template not in i18n.catalogue(lang):
            return message
        values = dict(m.groupdict())
        if "region" in values:
            values["region"] = region_name(values["region"], lang)
        return i18n.translate(lang, template, **values)
    return message


@pass_context
def note_text(ctx: Context, message: str) -> str:
    """Jinja filter: `{{ n.message | note_text }}`."""
    return translate_note(message, ctx.get("lang", "en"))
