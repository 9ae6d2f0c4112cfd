"""`openpcf report` and `openpcf label`: the study report (HTML, PDF) and the carbon label (SVG,
PNG) of a result file written by `openpcf calc --format json`, or of a model computed first."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.markup import escape

from openpcf import config
from openpcf.cli.common import FactorFiles, err, fail
from openpcf.domain.errors import Location, ModelError, OpenpcfError
from openpcf.domain.result import Result
from openpcf.io.label import (
    DEFAULT_SIZE,
    CertificateSummary,
    LabelSize,
    label_png,
    label_svg,
    label_value,
    png_pixels,
)
from openpcf.io.report_html import ReportContext, render_report_html
from openpcf.rules.catalogue import product_rules, profiles
from openpcf.services.calculation.calculate import DEFAULT_PROFILE, calculate
from openpcf.services.calculation.check import check as check_model
from openpcf.services.calculation.project import load_project


class Lang(StrEnum):
    en = "en"
    zh = "zh"


ResultArg = Annotated[
    Path,
    typer.Argument(
        help="A result JSON file (`openpcf calc MODEL --format json`) or a model file, "
        "computed first."
    ),
]
ProfileOpt = Annotated[
    str, typer.Option("--profile", "-p", help="Profile for a model file (ignored for a result).")
]
AllowOpt = Annotated[
    bool,
    typer.Option("--allow-violations", help="Compute a model even if it breaks its product rule."),
]
CertOpt = Annotated[
    str | None,
    typer.Option(
        "--certificate-id",
        help="Certificate id: the label gets a QR code to "
        "OPENPCF_PUBLIC_URL/p/ID; without it the label is a draft (not certified).",
    ),
]


CertFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--certificate",
        help="The signed certificate file (`openpcf certificate export`); without it the "
        "certificate is read from the configured database.",
        exists=True,
        dir_okay=False,
    ),
]


def _certificate(
    result: Result, certificate_id: str | None, file: Path | None
) -> tuple[CertificateSummary | None, str | None]:
    """The certificate to print on the result's label, or None and why the label is a draft."""
    from openpcf.services.certification.label_check import label_certificate

    if not certificate_id:
        return None, None
    if file is not None:
        document: bytes | None = file.read_bytes()
    else:
        from openpcf.services.certification.registry import document_bytes
        from openpcf.services.errors import NotFound
        from openpcf.store.db import sessions

        try:
            with sessions()() as s:
                document = document_bytes(s, certificate_id)
        except NotFound:
            document = None
    checked = label_certificate(result, certificate_id, document, config.public_url())
    reason = checked.reason
    if document is None and file is None:
        reason = (f"no published certificate {certificate_id} in the configured database; give "
                  "its signed file with --certificate")  # fmt: skip
    return checked.certificate, reason if checked.certificate is None else None


def load_result(path: Path, profile_id: str = DEFAULT_PROFILE, factors: list[Path] | None = None,
                allow_violations: bool = False) -> tuple[Result, str | None]:  # fmt: skip
    """A result read from its JSON file, or computed from a model file as `calc` does; with the
    model's system boundary when a model was computed."""
    if not path.is_file():
        raise ModelError("no such file; expected a result JSON file or a model file",
                         Location(path))  # fmt: skip
    if path.suffix.lower() == ".json":
        text = path.read_text("utf-8")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelError(f"invalid JSON at column {exc.colno}: {exc.msg}",
                             Location(path, exc.lineno)) from None  # fmt: skip
        if isinstance(doc, dict) and isinstance(doc.get("result"), dict):
            doc = doc["result"]  # a calculation as the web and API give it: its stored result
        if isinstance(doc, dict) and "pcf" in doc and "provenance" in doc:
            try:
                return Result.model_validate(doc), None
            except ValidationError as exc:
                first = exc.errors()[0]
                field = ".".join(str(p) for p in first["loc"])
                more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
                raise ModelError(f"not a valid openpcf result: {first['msg']}{more}; expected "
                                 "the output of `openpcf calc MODEL --format json`",
                                 Location(path, field=field)) from None  # fmt: skip
    project = load_project(path, factors or [])
    result = calculate(project, profile=profile_id)
    violations = check_model(project, profile_id, result)
    breaches = [v for v in violations if v.rule != profile_id and v.code != "UNKNOWN_RULE"]
    if breaches and not allow_violations:
        listed = "; ".join(f"{v.code}: {v.message}" for v in breaches)
        raise ModelError(f"the model breaks its product rule ({listed}); fix it, or run with "
                         "--allow-violations", Location(path))  # fmt: skip
    result = result.model_copy(update={"violations": tuple(violations)})
    return result, project.models[0].model.product.boundary


def report_context(result: Result, boundary: str | None,
                   certificate: CertificateSummary | None = None) -> ReportContext:  # fmt: skip
    """The profile and product rule texts from the catalogue, for the report's sections."""
    return ReportContext(
        certificate=certificate,
        profile=profiles().get(result.profile),
        rule=product_rules().get(result.rule),
        boundary=boundary,
        public_url=config.public_url(),
    )


def _write(path: Path, data: bytes | str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data, "utf-8")
        else:
            path.write_bytes(data)
    except OSError as exc:
        raise ModelError(f"cannot write: {exc.strerror}", Location(path)) from None


def report(
    result_file: ResultArg,
    pdf: Annotated[
        Path | None, typer.Option("--pdf", help="Write the report as an A4 PDF.")
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report as one HTML page.")
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the report.")] = Lang.en,
    certificate_id: Annotated[
        str | None,
        typer.Option(
            "--certificate-id",
            help="Certificate id to show (status is "
            "then 'scan to verify'); without it the report is a draft.",
        ),
    ] = None,
    certificate_file: CertFileOpt = None,
    profile_id: ProfileOpt = DEFAULT_PROFILE,
    factors: FactorFiles = None,
    allow_violations: AllowOpt = False,
) -> None:
    """Write the ISO 14067 / GB/T 24067 footprint study report of a result as PDF and/or HTML.

    A certificate is shown only if it signs this very result and OPENPCF_PUBLIC_URL is not a
    loopback address, as on the label; otherwise the report is a draft and the reason printed."""
    if pdf is None and html is None:
        err.print("[bold red]error:[/] give --pdf OUT.pdf and/or --html OUT.html")
        raise typer.Exit(2)
    try:
        with err.status("Loading the result", spinner="dots"):
            result, boundary = load_result(result_file, profile_id, factors, allow_violations)
        cert, why = _certificate(result, certificate_id, certificate_file)
        if why:
            err.print(f"[bold yellow]draft report:[/] {escape(why)}", soft_wrap=True)
        ctx = report_context(result, boundary, cert)
        with err.status("Rendering the report", spinner="dots"):
            page = render_report_html(result, lang.value, ctx)
        if html is not None:
            _write(html, page)
            err.print(f"wrote {html}")
        if pdf is not None:
            from openpcf.io.report_pdf import html_to_pdf

            with err.status("Printing the PDF (WeasyPrint)", spinner="dots"):
                data = html_to_pdf(page)
            _write(pdf, data)
            err.print(f"wrote {pdf} ({len(data) / 1024:.0f} KiB)")
    except OpenpcfError as exc:
        fail(exc)


def label(
    result_file: ResultArg,
    svg: Annotated[Path | None, typer.Option("--svg", help="Write the label as SVG.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Write the label as PNG.")] = None,
    size: Annotated[
        str,
        typer.Option(
            "--size", help="WIDTHxHEIGHTmm, or small (30x40mm), medium (50x70mm), large (80x100mm)."
        ),
    ] = str(DEFAULT_SIZE),
    dpi: Annotated[int, typer.Option("--dpi", min=72, max=2400, help="PNG resolution.")] = 300,
    certificate_id: CertOpt = None,
    certificate_file: CertFileOpt = None,
    profile_id: ProfileOpt = DEFAULT_PROFILE,
    factors: FactorFiles = None,
    allow_violations: AllowOpt = False,
) -> None:
    """Write the carbon label of a result: value per declared unit, grade, certificate and QR.

    With --certificate-id the label is certified only if the certificate signs this very result
    (sha256 of the result JSON) and OPENPCF_PUBLIC_URL is not a loopback address; otherwise it is
    a draft and the reason is printed."""
    if svg is None and png is None:
        err.print("[bold red]error:[/] give --svg OUT.svg and/or --png OUT.png")
        raise typer.Exit(2)
    try:
        label_size = LabelSize.parse(size)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] --size: {exc}")
        raise typer.Exit(2) from None
    try:
        result, _ = load_result(result_file, profile_id, factors, allow_violations)
        cert, why = _certificate(result, certificate_id, certificate_file)
        drawing = label_svg(result, certificate=cert, public_url=config.public_url(),
                            size=label_size)  # fmt: skip
        if svg is not None:
            _write(svg, drawing)
            err.print(f"wrote {svg} ({label_size})")
        if png is not None:
            _write(png, label_png(drawing, label_size, dpi))
            w, h = png_pixels(label_size, dpi)
            err.print(f"wrote {png} ({label_size} at {dpi} dpi: {w}x{h} px)")
    except OpenpcfError as exc:
        fail(exc)
    state = f"certificate {certificate_id}" if cert else "draft, not certified"
    err.print(f"{label_value(result.pcf.value)} kg CO2e per {result.declared_unit.unit} ({state})")
    if why:
        err.print(f"[bold yellow]draft label:[/] {escape(why)}", soft_wrap=True)
