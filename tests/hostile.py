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


def write_zip(path: Path, members: dict[str, bytes], compress: bool = True) -> Path:
    import zipfile

    mode = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", mode) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=mode)
    return path


def xml_bomb(levels: int = 9) -> bytes:
    """Billion laughs: entity lol9 expands to 10**9 'lol'."""
    ents = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(1, levels + 1)
    ]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE e [{"".join(ents)}]>\n'
        f"<ecoSpold><activityDataset>&lol{levels};</activityDataset></ecoSpold>"
    ).encode()


def xxe(target: str = "file:///etc/passwd") -> bytes:
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE e [<!ENTITY x SYSTEM "{target}">]>\n'
        "<ecoSpold><activityDataset>&x;</activityDataset></ecoSpold>"
    ).encode()


def deep_xml(depth: int = 100_000) -> bytes:
    return b"<a>" * depth + b"</a>" * depth


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def sheet_workbook(path: Path, sheet_xml: bytes, shared_strings: bytes | None = None) -> Path:
    """A minimal xlsx whose only worksheet ('Inputs') is `sheet_xml` (made by hand, so a
    200,000-row sheet costs no openpyxl time to write)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    members = {
        "[Content_Types].xml": (
            b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlforma'
            b'ts-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
            b'xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlfo'
            b'rmats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/works'
            b'heets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.sprea'
            b'dsheetml.worksheet+xml"/></Types>'
        ),
        "_rels/.rels": (
            b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            b'/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.or'
            b'g/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            b"</Relationships>"
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0"?><workbook xmlns="{ns}" xmlns:r="{rel}"><sheets><sheet '
            'name="Inputs" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package'
            f'/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>'
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_strings is not None:
        members["xl/sharedStrings.xml"] = shared_strings
    return write_zip(path, members)


def rows_sheet(rows: int) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    body = "".join(f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>' for r in range(1, rows + 1))
    return f'<?xml version="1.0"?><worksheet xmlns="{ns}"><sheetData>{body}</sheetData></worksheet>'.encode()
