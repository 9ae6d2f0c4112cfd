"""One exception type per kind of failure, each carrying where it happened and what was expected.

The core raises these; the CLI and API render them. Nothing in the core prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Location:
    """Where a problem is: a file, the line YAML gives (1-based) and a dotted field path.

    In a workbook the place is a `sheet` and a `cell` ('C7'); `line` is then the cell's row.
    """

    file: str | Path | None = None
    line: int | None = None
    field: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.sheet is not None:
            if self.file is not None:
                parts.append(str(self.file))
            at = f" cell {self.cell}" if self.cell else (f" row {self.line}" if self.line else "")
            parts.append(f"sheet '{self.sheet}'{at}")
        elif self.file is not None:
            parts.append(str(self.file) + (f":{self.line}" if self.line else ""))
        elif self.line:
            parts.append(f"line {self.line}")
        if self.field:
            parts.append(f"field '{self.field}'")
        return ", ".join(parts)


class OpenpcfError(Exception):
    """Base of every error openpcf reports to a user."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        self.message = message
        self.location = location or Location()
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.location)
        return f"{where}: {self.message}" if where else self.message


class ModelError(OpenpcfError):
    """A product model is malformed or refers to something that does not exist."""


class UnitError(OpenpcfError):
    """A quantity's unit is unknown or has the wrong dimension for where it is used."""


class FactorError(OpenpcfError):
    """A factor is missing, duplicated, malformed, or has no value for the asked region/year."""


class ImportFailure(OpenpcfError):
    """A background database (openLCA JSON-LD, ecospold2) cannot be read or is inconsistent."""


class DatabaseError(OpenpcfError):
    """A background database, or a process in it, does not exist or cannot be used as asked."""


class CalculationError(OpenpcfError):
    """The system cannot be solved (e.g. a sub-assembly cycle that consumes all it produces)."""


class MultiError(OpenpcfError):
    """Several independent problems found in one pass, reported together."""

    def __init__(self, errors: list[OpenpcfError]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problems found")

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)
