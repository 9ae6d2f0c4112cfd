"""The footprint study report as an A4 PDF: WeasyPrint prints the HTML report (`report_html`),
so the PDF and the page show the same text, tables and SVG charts."""

from __future__ import annotations

from openpcf.domain.result import Result
from openpcf.io.report_html import ReportContext, render_report_html


def html_to_pdf(html: str) -> bytes:
    """Print an HTML document with its print styles (A4, running header and page numbers)."""
    from weasyprint import HTML  # imported here: it loads pango and cairo, which few paths need

    return HTML(string=html, base_url=".").write_pdf()


def render_report_pdf(result: Result, lang: str = "en", ctx: ReportContext | None = None) -> bytes:
    return html_to_pdf(render_report_html(result, lang, ctx))
