"""Rendering a page: the Jinja2 environment and the context every template receives.

Every template gets `user` (WebUser or None), `lang` ('zh' | 'en'), `_` (translate, with
`{name}` placeholders: `_("{n} products", n=3)`), `csrf_token`, `nav` (the header's links for
the user) and `request`. Templates extend `base.html`.
"""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from openpcf.domain.certification import State
from openpcf.web import i18n
from openpcf.web.auth import WebUser, optional_user

templates = Jinja2Templates(directory=str(files("openpcf.web").joinpath("templates")))
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def language(request: Request) -> str:
    return i18n.choose(request.cookies.get(i18n.COOKIE), request.headers.get("accept-language"))


def number(value: float | None, digits: int = 3) -> str:
    """A figure with `digits` significant digits and thousands separators: 1,234 / 12.3 / 0.0456."""
    if value is None:
        return "–"
    v = float(value)
    if v == 0:
        return "0"
    magnitude = abs(v)
    if magnitude >= 10 ** (digits - 1):
        return f"{v:,.0f}"
    decimals = digits - 1 - int(f"{magnitude:e}".split("e")[1])
    return f"{v:,.{max(decimals, 0)}f}"


def percent(value: float | None, decimals: int = 1) -> str:
    return "–" if value is None else f"{100 * float(value):.{decimals}f} %"


def when(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M")


def quantity(amount: float, unit: str) -> str:
    """A declared unit as written: '1 kWh', '1000 kg', '0.896 kWh'."""
    return f"{float(amount):g} {unit}"


BADGES = {
    State.draft: "",
    State.submitted: "badge-info",
    State.under_review: "badge-warn",
    State.certified: "badge-ok",
    State.published: "badge-ok",
    State.revoked: "badge-bad",
    State.expired: "badge-bad",
}
ACTION_LABELS = {
    "submit": "Submit",
    "start_review": "Start review",
    "return": "Return to the enterprise",
    "certify": "Certify and sign",
    "publish": "Publish",
    "revoke": "Revoke",
}


def badge(state: State | str) -> str:
    """The CSS class of a certification state's badge."""
    try:
        return BADGES[State(state)]
    except ValueError:
        return ""


STAGE_LABELS = {
    "raw-materials": "Raw materials",
    "production": "Production",
    "distribution": "Distribution",
    "use": "Use",
    "end-of-life": "End of life",
}


def amount(value: float) -> str:
    """An input's amount as the model states it (no padding): 0.95, 2.255, 11.5."""
    return f"{float(value):,.6g}"


templates.env.globals["badge"] = badge
templates.env.globals["stage_labels"] = STAGE_LABELS
templates.env.filters["amount"] = amount
templates.env.globals["action_labels"] = ACTION_LABELS
templates.env.filters["num"] = number
templates.env.globals["qty"] = quantity
templates.env.filters["pct"] = percent
templates.env.filters["when"] = when


def nav_for(user: WebUser | None, lang: str) -> list[tuple[str, str, str]]:
    """(href, label, section) of the header's links for this user."""

    def t(s: str) -> str:
        return i18n.translate(lang, s)

    links: list[tuple[str, str, str]] = []
    if user is not None and user.kind == "enterprise":
        links += [
            ("/app/products", t("Products"), "products"),
            ("/app/submissions", t("Certification"), "submissions"),
            ("/monitoring", t("Monitoring"), "monitoring"),
        ]
    if user is not None and user.kind == "verifier":
        links += [("/verify/queue", t("Queue"), "queue")]
    if user is not None and user.kind == "regulator":
        links += [
            ("/regulate/factor-sets", t("Factor sets"), "factor-sets"),
            ("/regulate/coverage", t("Coverage"), "coverage"),
            ("/monitoring", t("Monitoring"), "monitoring"),
        ]
    links += [
        ("/registry", t("Registry"), "registry"),
        ("/compare", t("Compare"), "compare"),
        ("/tracker", t("Policies"), "policies"),
    ]
    return links


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
    csrf_token: str | None = None,
) -> HTMLResponse:
    """The template rendered for this request, with the common context."""
    user = optional_user(request)
    lang = language(request)

    def _(message: str, **values: object) -> str:
        return i18n.translate(lang, message, **values)

    ctx: dict[str, Any] = {
        "user": user,
        "lang": lang,
        "_": _,
        "csrf_token": csrf_token or (user.csrf if user else ""),
        "nav": nav_for(user, lang),
        "path": request.url.path,
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, template, ctx, status_code=status_code)
