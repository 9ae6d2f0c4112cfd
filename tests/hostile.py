"""Hostile documents for the bounds tests, made in the test's tmp_path (no binaries committed)."""

from __future__ import annotations

from pathlib import Path


def alias_bomb(levels: int) -> str:
    """A product model whose `notes` is a billion-laughs tree: 9**levels values in ~60*levels
    bytes. Six levels (~440 bytes) once took 25 s and 2.2 GB; seven, 146 s and a 500."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    body = "\n".join(f"  {line}" for line in lines)
    return (
        "openpcf: 1\n"
        "product:\n  name: Bomb\n  declared_unit: {amount: 1, unit: kg}\n"
        f"notes:\n{body}\n"
        "inputs:\n  - {name: Steel, stage: raw-materials, amount: 1, unit: kg,\n"
        "     pcf: {value: 2.0, unit: kg CO2e/kg, source: supplier}}\n"
    )


def far_cell_workbook(path: Path, cell: str = "XFD1048576") -> Path:
    """The BOM template with one value at `cell` of 'Inputs' (38 KB at XFD1048576): openpyxl
    padded every row to column XFD and ran 58 s at 5.3 GB."""
    import openpyxl

    from openpcf.io.excel_template import write_template

    write_template(path)
    wb = openpyxl.load_workbook(path)
    wb["Inputs"][cell] = 1
    wb.save(path)
    return path
