"""An Atom 1.0 feed (RFC 4287) written with lxml, so every string is escaped as data."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"


@dataclass(frozen=True)
class Entry:
    id: str  # a URI, unique and permanent (a tag: URI or the entry's page)
    title: str
    updated: datetime
    link: str
    summary: str
    author: str
    categories: tuple[str, ...] = ()


def feed(feed_id: str, title: str, link: str, self_link: str, entries: Iterable[Entry]) -> bytes:
    entries = list(entries)
    root = etree.Element(f"{{{ATOM}}}feed", nsmap={None: ATOM})
    etree.SubElement(root, f"{{{ATOM}}}id").text = feed_id
    etree.SubElement(root, f"{{{ATOM}}}title").text = title
    newest = max((e.updated for e in entries), default=datetime(1970, 1, 1).astimezone())
    etree.SubElement(root, f"{{{ATOM}}}updated").text = newest.isoformat()
    etree.SubElement(root, f"{{{ATOM}}}link", href=link)
    etree.SubElement(root, f"{{{ATOM}}}link", href=self_link, rel="self")
    for e in entries:
        item = etree.SubElement(root, f"{{{ATOM}}}entry")
        etree.SubElement(item, f"{{{ATOM}}}id").text = e.id
        etree.SubElement(item, f"{{{ATOM}}}title").text = e.title
        etree.SubElement(item, f"{{{ATOM}}}updated").text = e.updated.isoformat()
        etree.SubElement(item, f"{{{ATOM}}}link", href=e.link)
        author = etree.SubElement(item, f"{{{ATOM}}}author")
        etree.SubElement(author, f"{{{ATOM}}}name").text = e.author
        for term in e.categories:
            etree.SubElement(item, f"{{{ATOM}}}category", term=term)
        etree.SubElement(item, f"{{{ATOM}}}summary").text = e.summary
    return etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
