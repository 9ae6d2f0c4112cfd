"""The installed background databases as a manufacturer or verifier reads them: what each is,
where it came from and what its import found, so that the background data a footprint drew on
can be checked. Read-only: importing stays an operator's task (`openpcf db import`).

Databases are machine-wide (the operator's background data, not a tenant's), so any signed-in
user may read them. Only the stored descriptor and report are read, never the matrices.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path, PurePath
from typing import Any

from pydantic import BaseModel, Field

from openpcf.domain.lci import ImportReport, ReportEntry
from openpcf.domain.platform import Principal
from openpcf.io.lci_package import NAME, names, versions
from openpcf.services.errors import NotFound
from openpcf.services.lci.databases import databases_root
from openpcf.services.platform.access import signed_in

#: Most entries one list of the detail returns; the rest is paged with `offset`.
MAX_LIMIT = 500


class LciDatabaseInfo(BaseModel):
    """One installed database (its latest version, or the one asked for)."""

    name: str = Field(examples=["uslci"])
    version: str = Field(description="the version described", examples=["1"])
    versions: list[str] = Field(description="every stored version, oldest first")
    format: str = Field(description="the source's format", examples=["openLCA JSON-LD"])
    source_file: str | None = Field(description="file name of the imported export")
    source_sha256: str | None = Field(description="sha256 of the imported export, if recorded")
    imported_at: str | None = Field(description="when this version was stored (UTC, ISO 8601)")
    processes: int = Field(description="processes of the source")
    columns: int = Field(
        description="technosphere columns (a multi-output process gives one per product)"
    )
    exchanges: int = Field(description="exchanges of the source, each in one report category")
    flows: int = Field(description="elementary flows")
    climate_method: str | None = Field(
        description="the release's own climate-change method, if it carried one"
    )
    inputs_linked: int = Field(description="inputs and wastes linked to a provider")
    inputs_to_link: int = Field(description="inputs and wastes to link")
    cut_off: int = Field(description="flows cut off in the data")
    unlinked: int = Field(description="input flows no process produces (cut off)")
    ambiguous: int = Field(description="input flows with several providers, none chosen (cut off)")
    unmapped_ghg: int = Field(description="GHG-looking elementary flows the GHG map has no gas for")
    choices: int = Field(description="inputs with several providers: a choice made by a rule")
    notes: int = Field(description="notes of the import report")


class EntryPage(BaseModel):
    total: int = Field(description="entries in all")
    offset: int
    items: list[ReportEntry]


class NotePage(BaseModel):
    total: int = Field(description="notes in all")
    offset: int
    items: list[str]


class LciDatabaseDetail(LciDatabaseInfo):
    """The summary with what the import report found; long lists are paged (`offset`, `limit`)."""

    counts: dict[str, int] = Field(description="exchanges per report category")
    linking: dict[str, str | None] = Field(
        description="the linking policy: `unlinked` (cut-off or error), the linking file's name "
        "and sha256 when providers were pinned"
    )
    notes_page: NotePage = Field(description="the report's notes")
    choices_page: EntryPage = Field(
        description="inputs with several providers: the choice and its rule"
    )
    cut_off_page: EntryPage
    unlinked_page: EntryPage
    ambiguous_page: EntryPage
    unmapped_ghg_page: EntryPage


def list_installed(who: Principal) -> list[LciDatabaseInfo]:
    signed_in(who)
    root = databases_root()
    return [_summary(*_stored(root, n, versions(root, n)[-1])) for n in names(root)]


def installed(who: Principal, ref: str, offset: int = 0, limit: int = 100) -> LciDatabaseDetail:
    """'NAME' (its latest version) or 'NAME@VERSION'; unknown → NotFound naming what there is."""
    signed_in(who)
    root = databases_root()
    name, _, version = ref.partition("@")
    available = versions(root, name) if NAME.match(name) else []
    if not available:
        known = ", ".join(names(root)) or "none (an operator imports them: `openpcf db import`)"
        raise NotFound(f"no background database '{name}'; installed: {known}")
    if version and version not in available:
        raise NotFound(f"database '{name}' has no version '{version}'; versions: "
                       f"{', '.join(available)}")  # fmt: skip
    meta, report, method, all_versions = _stored(root, name, version or available[-1])
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)

    def page(entries: tuple[ReportEntry, ...]) -> EntryPage:
        return EntryPage(
            total=len(entries), offset=offset, items=list(entries[offset : offset + limit])
        )

    policy = meta.get("linking") or {}
    return LciDatabaseDetail(
        **_summary(meta, report, method, all_versions).model_dump(),
        counts=report.counts,
        linking={
            "unlinked": policy.get("unlinked"),
            "linking_file": _file_name(policy.get("linking_file")),
            "linking_sha256": policy.get("linking_sha256"),
        },
        notes_page=NotePage(
            total=len(report.notes),
            offset=offset,
            items=list(report.notes[offset : offset + limit]),
        ),
        choices_page=page(report.choices),
        cut_off_page=page(report.cut_off),
        unlinked_page=page(report.unlinked),
        ambiguous_page=page(report.ambiguous),
        unmapped_ghg_page=page(report.unmapped_ghg),
    )


def _stored(
    root: Path, name: str, version: str
) -> tuple[dict, ImportReport, str | None, list[str]]:
    folder = root / name / version
    stamp = (folder / "datapackage.json").stat().st_mtime_ns
    return (*_read(str(folder), stamp), versions(root, name))


@lru_cache(maxsize=32)
def _read(folder: str, stamp: int) -> tuple[dict, ImportReport, str | None]:
    """Descriptor, report and climate method's name of a version (immutable: cached by stamp)."""
    path = Path(folder)
    meta = json.loads((path / "datapackage.json").read_text("utf-8"))
    report = ImportReport.model_validate_json((path / "report.json").read_text("utf-8"))
    method = None
    if (path / "methods.json").is_file():
        methods = json.loads((path / "methods.json").read_text("utf-8"))
        exact = [m for m in methods if m["name"].strip().lower() == "climate change"]
        loose = [m for m in methods if "climate change" in m["name"].lower()]
        method = next((m["name"] for m in exact + loose), None)  # as compare.climate_method
    return meta, report, method


def _summary(
    meta: dict[str, Any], report: ImportReport, method: str | None, all_versions: list[str]
) -> LciDatabaseInfo:
    source = meta.get("source") or {}
    return LciDatabaseInfo(
        name=meta["name"],
        version=str(meta["version"]),
        versions=all_versions,
        format=source.get("format") or report.format,
        source_file=_file_name(source.get("path")),
        source_sha256=source.get("sha256"),
        imported_at=meta.get("created"),
        processes=report.processes,
        columns=report.columns,
        exchanges=report.exchanges,
        flows=report.elementary_flows,
        climate_method=method,
        inputs_linked=report.inputs_linked,
        inputs_to_link=report.inputs_to_link,
        cut_off=len(report.cut_off),
        unlinked=len(report.unlinked),
        ambiguous=len(report.ambiguous),
        unmapped_ghg=len(report.unmapped_ghg),
        choices=len(report.choices),
        notes=len(report.notes),
    )


def _file_name(path: str | None) -> str | None:
    """Only the file's name: the operator's folders are not the readers' business."""
    return PurePath(path).name if path else None
