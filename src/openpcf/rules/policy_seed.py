"""The bundled policy and standards tracker: `policies/seed.yaml`, plus one standards entry per
product standard that a bundled product rule cites (so a standard is written down once, in the
rule that implements it)."""

from __future__ import annotations

import re
from functools import lru_cache

import yaml
from pydantic import ValidationError

from openpcf.domain.errors import Location
from openpcf.domain.methodology import ProductRule
from openpcf.domain.policy import PolicyDocument
from openpcf.rules.catalogue import _ROOT, RuleDataError, product_rules

SEED = "seed"
# GB/T 44905-2024, GB/T 47064-2026, T/CISA 469-2024, T/CECRPA 010-2024, T/CPCIF 0468-2025
_NUMBER = re.compile(r"\b((?:GB/T|GB|T/[A-Z]+|HJ|DB\d{2}/T)\s?\d+(?:\.\d+)?-(\d{4}))")
_TITLE = re.compile(r"(温室气体\s*产品碳足迹量化方法与要求\s*[^\s,;()（）]+)")
_IN_FORCE = re.compile(r"in force (\d{4}-\d{2}-\d{2})")


@lru_cache(maxsize=1)
def seed_documents() -> tuple[PolicyDocument, ...]:
    """Every bundled document as version 1, the seed file's first, then the cited standards."""
    entry = _ROOT.joinpath("policies", "seed.yaml")
    try:
        rows = yaml.safe_load(entry.read_text("utf-8"))
        docs = [
            PolicyDocument.model_validate({**row, "version": 1, "changed_by": SEED}) for row in rows
        ]
    except (yaml.YAMLError, ValidationError) as exc:
        raise RuleDataError(f"invalid policy seed: {exc}", Location("policies/seed.yaml")) from None
    seen = {d.id for d in docs}
    for doc in _cited_standards(product_rules()):
        if doc.id not in seen:
            docs.append(doc)
            seen.add(doc.id)
    return tuple(docs)


def standard_slug(number: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", number.lower()).strip("-")


def _cited_standards(rules: dict[str, ProductRule]) -> list[PolicyDocument]:
    found: dict[str, dict] = {}
    for rule in rules.values():
        for c in rule.sources:
            if c.topic != "standard":
                continue
            for number, year in _NUMBER.findall(c.source):
                slug = standard_slug(number)
                doc = found.get(slug)
                if doc is None:
                    title = _TITLE.search(c.source.split(number, 1)[1])
                    in_force = _IN_FORCE.search(c.source)
                    national = number.startswith("GB")
                    doc = found[slug] = {
                        "id": slug,
                        "kind": "standard",
                        "level": "national",
                        "issuer": "SAMR, SAC"
                        if national
                        else f"{number.split()[0]} (group standard)",
                        "title_zh": re.sub(r"\s+", " ", title.group(1)) if title else "",
                        "title_en": f"Greenhouse gases: product carbon footprint, {rule.name}",
                        "number": number,
                        "date": c.published
                        if c.published and number.endswith(c.published[:4])
                        else year,
                        "effective": in_force.group(1) if in_force else None,
                        "status": "in-force" if in_force else "issued",
                        "types": ["accounting-standard"],
                        "regions": ["CN"],
                        "rules": [],
                        "source_url": c.url,
                        "obtained": f"cited by the product rule {rule.id}: {c.source}",
                        "verify": bool(c.flags)
                        or "not inspected" in c.source
                        or "table of contents" in c.source,
                        "version": 1,
                        "changed_by": SEED,
                    }
                if rule.id not in doc["rules"]:
                    doc["rules"].append(rule.id)
    return [PolicyDocument.model_validate(d) for d in found.values()]
