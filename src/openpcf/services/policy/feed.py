"""The tracker's changes as an Atom feed: each stored version and each seeded document."""

from __future__ import annotations

from sqlalchemy.orm import Session

from openpcf import config
from openpcf.io.atom_feed import Entry, feed
from openpcf.services.policy.documents import changes


def atom(session: Session, lang: str = "en", limit: int = 100) -> bytes:
    base = config.public_url().rstrip("/")
    entries = []
    for c in changes(session, limit):
        d = c.document
        what = "new" if d.version == 1 else f"version {d.version}"
        summary = "; ".join(r.text for r in d.requirements) or d.title(lang)
        if d.change_note:
            summary = f"{d.change_note}. {summary}"
        entries.append(
            Entry(
                id=f"{base}/tracker/{d.id}/v{d.version}",
                title=f"{d.title(lang)} ({d.status.value}, {what})",
                updated=c.at,
                link=f"{base}/tracker/{d.id}",
                summary=summary,
                author=d.issuer,
                categories=tuple(t.value for t in d.types) + d.regions,
            )
        )
    title = "openpcf 政策与标准动态" if lang == "zh" else "openpcf policies and standards: changes"
    return feed(f"{base}/tracker", title, f"{base}/tracker", f"{base}/policies/feed.atom",
                entries)  # fmt: skip
