"""What the benchmark scripts print alike: the table of their measurements (figure, value, how
it was measured), which BENCHMARKS.md quotes."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def print_measurements(console: Console, rows: list[tuple[str, str, str]]) -> None:
    table = Table(title="measurements")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("note", overflow="fold")
    for row in rows:
        table.add_row(*row)
    console.print(table)
