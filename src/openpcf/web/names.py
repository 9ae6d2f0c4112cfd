"""Names shown to a person instead of codes, in the page's language: Jinja filters that read
the page's `lang` (`{{ p.region | region }}` shows 江苏 on a Chinese page, Jiangsu on an English
one), and the Chinese words the factor search understands."""

from __future__ import annotations

from jinja2 import pass_context
from jinja2.runtime import Context

from openpcf.domain.regions import PROVINCES, region_name
from openpcf.rules.catalogue import product_rules, profiles

# Chinese search words -> the English words (or codes) factor names and ids are written in.
SEARCH_TERMS = {
    "电力": "electricity", "电网": "electricity", "电": "electricity", "钢": "steel",
    "钢铁": "steel", "水泥": "cement", "熟料": "clinker", "铝": "aluminium", "铜": "copper",
    "运输": "transport", "货运": "freight", "天然气": "natural gas", "煤": "coal",
    "柴油": "diesel", "汽油": "gasoline", "热力": "heat", "蒸汽": "steam",
}  # fmt: skip


@pass_context
def region(ctx: Context, code: str | None) -> str:
    """A region code as its name in the page's language; '–' for none."""
    return region_name(code, ctx.get("lang", "en")) if code else "–"


def region_options(lang: str) -> list[tuple[str, str]]:
    """(code, name) of China and its provinces, for a region field's suggestions."""
    return [("CN", region_name("CN", lang)), *((p.code, p.name(lang)) for p in PROVINCES)]


def search_words(text: str) -> str:
    """A factor search as the catalogue understands it: province names (江苏, Jiangsu) become
    their codes and common Chinese terms their English words."""
    by_name = {p.zh: p.code for p in PROVINCES} | {p.en.lower(): p.code for p in PROVINCES}
    out = []
    for word in text.split():
        for name in sorted(by_name, key=len, reverse=True):  # 江苏电力 -> CN-JS 电力
            if name in word.lower() and len(word) > len(name):
                word = word.lower().replace(name, " " + by_name[name] + " ")
        for part in word.split():
            part = by_name.get(part.lower(), part)
            out.append(SEARCH_TERMS.get(part, part))
    return " ".join(out)


@pass_context
def profile_name(ctx: Context, profile_id: str | None) -> str:
    """A methodology profile's name (from rules/profiles, Chinese from the message catalogue)."""
    if not profile_id:
        return "–"
    found = profiles().get(profile_id)
    return _translate(ctx, found.name) if found else profile_id


@pass_context
def rule_name(ctx: Context, rule_id: str | None) -> str:
    """A product rule's name in the page's language (rules/products name and name_zh); the
    general rule when there is none."""
    if not rule_id:
        return _translate(ctx, "general rule")
    found = product_rules().get(rule_id)
    if found is None:
        return rule_id
    return found.name_zh if ctx.get("lang") == "zh" and found.name_zh else found.name


def _translate(ctx: Context, text: str) -> str:
    translate = ctx.get("_")
    return translate(text) if callable(translate) else text


# A submission's history in words (certification events and states), for `_history.html`.
EVENT_WORDS = {
    "create": "Created as a draft",
    "submit": "Submitted for verification",
    "withdraw": "Withdrawn by the enterprise",
    "start_review": "Review started",
    "return": "Returned to the enterprise",
    "certify": "Certified and signed",
    "publish": "Published to the registry",
    "revoke": "Revoked",
}
STATE_WORDS = {"under_review": "under review"}
