"""Certificate and ledger commands: check a signed certificate offline, export verifiers'
public keys as a trust list, manage signing keys, and verify or anchor the ledger.

`certificate verify` needs no database; the others act on the configured one
(OPENPCF_DATABASE_URL, default SQLite in OPENPCF_HOME) as the operator running them.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.table import Table

from openpcf.cli.common import err, fail, out, platform_sessions
from openpcf.domain.certification import check_document
from openpcf.domain.errors import OpenpcfError

if TYPE_CHECKING:
    pass

certificate_app = typer.Typer(
    help="Signed PCF certificates: verify offline, verifiers' keys, export a certificate.",
    no_args_is_help=True,
)
ledger_app = typer.Typer(
    help="The append-only ledger of certificates, revocations and green electricity.",
    no_args_is_help=True,
)


class Format(StrEnum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[
        Path, typer.Argument(help="The certificate file (JSON).", exists=True, dir_okay=False)
    ],
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            help="Trusted public keys: the JSON of 'certificate keys --export', or PEM keys.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    at: Annotated[
        datetime | None,
        typer.Option("--at", help="Check validity at this time (UTC) instead of now."),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Check a certificate offline: form, canonical bytes, Ed25519 signature, validity dates,
    and (with --trust) that the signing key is trusted. Exit 1 naming what failed."""
    from openpcf.services.certification.signing import trusted_fingerprints

    trusted = None
    if trust is not None:
        try:
            trusted = trusted_fingerprints(trust.read_text("utf-8"), str(trust))
        except (OpenpcfError, ValueError) as exc:
            err.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
    when = (at.replace(tzinfo=UTC) if at and at.tzinfo is None else at) or datetime.now(UTC)
    doc, checks = check_document(file.read_bytes(), when, trusted)
    ok = all(c.ok for c in checks)
    if format is Format.json:
        report = {
            "file": str(file),
            "ok": ok,
            "certificate_id": (doc or {}).get("certificate_id"),
            "checks": [{"name": c.name, "ok": c.ok, "message": c.message} for c in checks],
        }
        sys.stdout.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    else:
        if doc and "certificate_id" in doc:
            product = doc.get("product", {})
            pcf, du = doc.get("pcf", {}), doc.get("declared_unit", {})
            out.print(
                f"certificate {escape(str(doc['certificate_id']))}: "
                f"{escape(str(product.get('name')))} ({escape(str(product.get('urn')))}), "
                f"{pcf.get('value')} {escape(str(pcf.get('unit')))} per "
                f"{du.get('amount')} {escape(str(du.get('unit')))}, verified by "
                f"{escape(str(doc.get('verifier', {}).get('name')))}",
                soft_wrap=True,
            )
        for c in checks:
            mark = "[green]PASS[/]" if c.ok else "[bold red]FAIL[/]"
            out.print(f"  {mark} {c.name}: {escape(c.message)}", soft_wrap=True)
        if trusted is None and ok:
            out.print("  note: no --trust list given: the signature is genuine for the key in "
                      "the file, whoever holds it")  # fmt: skip
        out.print("  note: revocation is not visible offline; see the registry "
                  "(GET /registry/certificates/{id})")  # fmt: skip
        out.print("[green]VALID[/]" if ok else "[bold red]INVALID[/]")
    if not ok:
        raise typer.Exit(1)


@certificate_app.command("keys")
def certificate_keys(
    export: Annotated[
        bool, typer.Option("--export", help="Write the trust list JSON for 'verify --trust'.")
    ] = False,
    body: Annotated[str | None, typer.Option(help="One verification body's keys.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """Verifiers' public keys (retired ones too: they check older certificates)."""
    from openpcf.services.certification.signing import list_keys

    with platform_sessions()() as s:
        keys = list_keys(s, body)
    if export:
        text = json.dumps(
            {"keys": [k.model_dump(mode="json") for k in keys]}, indent=2, ensure_ascii=False
        )
        if output:
            output.write_text(text + "\n", "utf-8")
            err.print(f"{len(keys)} key(s) written to {escape(str(output))}")
        else:
            sys.stdout.write(text + "\n")
        return
    table = Table()
    for col in ("fingerprint", "body", "verifier", "created", "retired"):
        table.add_column(col)
    for k in keys:
        table.add_row(
            k.fingerprint,
            k.body,
            k.owner,
            f"{k.created_at:%Y-%m-%d}" if k.created_at else "",
            f"{k.retired_at:%Y-%m-%d}" if k.retired_at else "",
        )
    out.print(table)


@certificate_app.command("new-key")
def certificate_new_key(
    user: Annotated[str, typer.Option("--user", help="E-mail of the verifier user.")],
) -> None:
    """Make a new signing key for a verifier user (their earlier key is retired)."""
    from openpcf.services.certification.signing import keys_dir, new_key_for
    from openpcf.services.platform.accounts import operator

    try:
        key = new_key_for(platform_sessions()(), operator(), user)
    except OpenpcfError as exc:
        fail(exc)
        return
    out.print(f"key {key.fingerprint} made for {escape(key.owner)} ({escape(key.body)}); "
              f"private key in {escape(str(keys_dir()))}")  # fmt: skip


@certificate_app.command("retire-key")
def certificate_retire_key(
    fingerprint: Annotated[str, typer.Argument(help="sha256:... as 'certificate keys' lists.")],
) -> None:
    """Retire a signing key (leaked, or its verifier left): it signs nothing more."""
    from openpcf.services.certification.signing import retire_key
    from openpcf.services.platform.accounts import operator

    try:
        key = retire_key(platform_sessions()(), operator(), fingerprint)
    except OpenpcfError as exc:
        fail(exc)
        return
    out.print(f"key {key.fingerprint} of {escape(key.owner)} retired")


@certificate_app.command("export")
def certificate_export(
    certificate_id: Annotated[str, typer.Argument(help="Certificate id, e.g. pcf-3f9a...")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to a file.")] = None,
) -> None:
    """The signed file of a published certificate, byte for byte as signed."""
    from openpcf.services.certification.registry import document_bytes

    try:
        with platform_sessions()() as s:
            data = document_bytes(s, certificate_id)
    except OpenpcfError as exc:
        fail(exc)
        return
    if output:
        output.write_bytes(data)
        err.print(f"certificate written to {escape(str(output))}")
    else:
        sys.stdout.buffer.write(data + b"\n")


@ledger_app.command("verify")
def ledger_verify(
    anchor: Annotated[
        str | None,
        typer.Option(help="A head exported earlier, SEQ:HASH: it must still be in the chain."),
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Check every entry's hash and link; exit 1 with the first altered, removed or reordered
    position."""
    from openpcf.services.certification import ledger

    try:
        pinned = ledger.parse_anchor(anchor) if anchor else None
        with platform_sessions()() as s:
            total = ledger.count(s)
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err,
                          transient=True, disable=format is Format.json) as bar:  # fmt: skip
                task = bar.add_task(f"checking {total} entries", total=total)
                verdict = ledger.verify(s, pinned, lambda n: bar.update(task, completed=n))
    except OpenpcfError as exc:
        fail(exc)
        return
    if format is Format.json:
        sys.stdout.write(verdict.model_dump_json(indent=2) + "\n")
    elif verdict.ok:
        out.print(f"[green]ledger intact[/]: {verdict.entries} entries, head "
                  f"{verdict.head.seq}:{verdict.head.hash}")  # fmt: skip
    else:
        out.print(f"[bold red]ledger broken at position {verdict.position}[/] "
                  f"({verdict.problem}): {escape(verdict.message or '')}", soft_wrap=True)  # fmt: skip
    if not verdict.ok:
        raise typer.Exit(1)


@ledger_app.command("head")
def ledger_head(format: FormatOption = Format.text) -> None:
    """The last entry's position and hash, to anchor elsewhere (SEQ:HASH)."""
    from openpcf.services.certification import ledger

    with platform_sessions()() as s:
        top = ledger.head(s)
    if format is Format.json:
        sys.stdout.write(top.model_dump_json(indent=2) + "\n")
    else:
        out.print(f"{top.seq}:{top.hash}")


@ledger_app.command("list")
def ledger_list(
    after: Annotated[int, typer.Option(help="Entries after this position.")] = 0,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 50,
    kind: Annotated[
        str | None, typer.Option(help="Only this kind, e.g. certificate.issued.")
    ] = None,
    format: FormatOption = Format.text,
) -> None:
    """Entries of the ledger, oldest first."""
    from openpcf.services.certification import ledger

    with platform_sessions()() as s:
        rows = ledger.entries(s, after, limit, kind)
    if format is Format.json:
        sys.stdout.write(json.dumps([r.model_dump() for r in rows], indent=2) + "\n")
        return
    table = Table()
    for col in ("seq", "kind", "at", "actor", "hash"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.seq), r.kind, r.at, r.actor, r.hash[:16] + "...")
    out.print(table)
