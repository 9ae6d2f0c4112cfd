"""The national list of products and its rule coverage: every product the work plan, the
labelling pilot and the certification catalogue name (shipped as `rules/national_products.csv`
from shared/data/china_pcf_product_lists.csv, plus what public sources add), each with the
rules that cover it and its status: a rule published (bundled or a regulator's version in
force), a draft, or missing. Progress is counted against the targets of ~100 product rules by
2027 and ~200 by 2030."""

from __future__ import annotations

import csv
import io
from functools import lru_cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from openpcf.rules.catalogue import bundled_rules
from openpcf.services.catalogue.rule_versions import drafts, published_ids

Status = Literal["published", "draft", "missing"]
TARGETS_SOURCE = (
    "关于建立碳足迹管理体系的实施方案 (MEE and 14 departments, 2024-05-22): about 100 key product "
    "carbon-footprint accounting standards by 2027, about 200 by 2030 "
    "(http://m.tanpaifang.com/article/106686.html); the same targets in 产品碳足迹核算标准编制工作指引 "
    "(2025-01-06, http://runbow.com.cn/index/50/131.html)"
)


class NamedProduct(BaseModel):
    model_config = ConfigDict(frozen=True)

    list_id: str = Field(description="which list names it (work plan, pilot, catalogue, public)")
    seq: int
    item_zh: str
    item_en: str
    parent: str
    source_title: str
    source_url: str
    date: str
    rules: list[str] = Field(description="rules covering it (or the id a rule will have)")
    status: Status


class Target(BaseModel):
    model_config = ConfigDict(frozen=True)

    year: int
    rules: int
    progress: float = Field(description="rules published / target")


class ProductCatalogue(BaseModel):
    model_config = ConfigDict(frozen=True)

    items: list[NamedProduct]
    rules_published: int = Field(description="distinct product rules in force")
    items_published: int
    items_draft: int
    items_missing: int
    targets: list[Target]
    targets_source: str = TARGETS_SOURCE


@lru_cache(maxsize=1)
def _rows() -> tuple[dict[str, str], ...]:
    text = files("openpcf.rules").joinpath("national_products.csv").read_text("utf-8")
    body = "".join(ln for ln in text.splitlines(True) if not ln.startswith("#"))
    return tuple(csv.DictReader(io.StringIO(body)))


def product_catalogue(session: Session) -> ProductCatalogue:
    """The national list with each item's status (readable by everyone)."""
    with session.begin():
        published = set(bundled_rules()) | published_ids(session)
        draft = drafts(session) - published
    items = []
    for r in _rows():
        ids = [x for x in r["rules"].split(";") if x]
        status: Status = "missing"
        if any(i in published for i in ids):
            status = "published"
        elif any(i in draft for i in ids):
            status = "draft"
        items.append(NamedProduct(
            list_id=r["list_id"], seq=int(r["seq"]), item_zh=r["item_zh"], item_en=r["item_en"],
            parent=r["parent"], source_title=r["source_title"], source_url=r["source_url"],
            date=r["date"], rules=ids, status=status,
        ))  # fmt: skip
    count = len(published)
    return ProductCatalogue(
        items=items,
        rules_published=count,
        items_published=sum(i.status == "published" for i in items),
        items_draft=sum(i.status == "draft" for i in items),
        items_missing=sum(i.status == "missing" for i in items),
        targets=[
            Target(year=y, rules=n, progress=count / n) for y, n in ((2027, 100), (2030, 200))
        ],
    )
