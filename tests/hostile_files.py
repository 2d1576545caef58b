"""Crafted workbooks and files that try to exhaust the reader (issue 13, item 3).

Shared by ``tests/test_hostile_files.py`` and ``benchmarks/hostile_files.py``.
Each builder writes one file into a folder and returns its path. The workbooks
start from a real openpyxl workbook (header and three invoice lines) whose sheet
XML is then rewritten, so every other part is what a writer produces.
"""

from __future__ import annotations

import io
import random
import re
import zipfile
from pathlib import Path

HEADER = ("InvoiceNo", "CustomerID", "InvoiceDate", "Quantity", "UnitPrice")
ROWS = (
    ("536365", "17850", "2010-12-01 08:26:00", 6, 2.55),
    ("536366", "17850", "2010-12-01 08:28:00", 6, 1.85),
    ("536367", "13047", "2010-12-01 08:34:00", 32, 1.69),
)
SHEET = "xl/worksheets/sheet1.xml"


def _base_parts() -> dict[str, bytes]:
    """A small real workbook's parts (openpyxl), sheet 1 holding HEADER and ROWS."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in ROWS:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _with_sheet(parts: dict[str, bytes], sheet_xml: bytes, path: Path) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, sheet_xml if name == SHEET else data)
    return path


def _add_cell(sheet_xml: bytes, ref: str) -> bytes:
    """Append a row holding one number cell at ``ref`` to the sheet data."""
    row = re.search(r"\d+", ref).group()
    cell = f'<row r="{row}"><c r="{ref}"><v>1</v></c></row>'.encode()
    return sheet_xml.replace(b"</sheetData>", cell + b"</sheetData>")


def far_corner_no_dimension(folder: Path) -> Path:
    """A cell at XFD1048576 (Excel's last cell) and no ``<dimension>`` at all."""
    parts = _base_parts()
    xml = re.sub(rb"<dimension[^>]*/>", b"", _add_cell(parts[SHEET], "XFD1048576"))
    return _with_sheet(parts, xml, folder / "far_corner.xlsx")


def lying_dimension(folder: Path) -> Path:
    """``<dimension ref="A1:B2"/>`` while a cell sits at XFD1048576."""
    parts = _base_parts()
    xml = _add_cell(parts[SHEET], "XFD1048576")
    xml = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:B2"', xml)
    return _with_sheet(parts, xml, folder / "lying_dimension.xlsx")


def row_9999999(folder: Path) -> Path:
    """A cell at H9999999: under the row and column limits, but ~80 M cells."""
    parts = _base_parts()
    xml = re.sub(rb"<dimension[^>]*/>", b"", _add_cell(parts[SHEET], "H9999999"))
    return _with_sheet(parts, xml, folder / "row_9999999.xlsx")


def dense_cells(folder: Path, inflated_bytes: int = 864 * 10**6) -> Path:
    """A sheet of about ``inflated_bytes`` of real cells (200 columns, numbers).

    Every row is ``<row r="n">`` and the same 200 number cells, which take
    their places from their order (no ``r`` of their own, as the format allows),
    so the part compresses about 375:1 (864 MB -> ~2.3 MB).
    """
    parts = _base_parts()
    head, _, tail = parts[SHEET].partition(b"<sheetData>")
    head = re.sub(rb"<dimension[^>]*/>", b"", head)
    _, _, tail = tail.partition(b"</sheetData>")
    cells = "<c><v>7</v></c>" * 200
    path = folder / "dense_cells.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for name, data in parts.items():
            if name != SHEET:
                zf.writestr(name, data)
        with zf.open(SHEET, "w", force_zip64=True) as out:
            out.write(head + b"<sheetData>")
            written, row = 0, 1
            while written < inflated_bytes:
                line = f'<row r="{row}">{cells}</row>'.encode()
                out.write(line)
                written += len(line)
                row += 1
            out.write(b"</sheetData>" + tail)
    return path


def whitespace_zip(folder: Path, inflated_bytes: int = 3 * 2**29) -> Path:
    """A workbook whose sheet XML is padded with ``inflated_bytes`` of spaces.

    1.5 GiB by default: under the 2 GiB inflated-size limit, ~1.5 MB on disk.
    """
    parts = _base_parts()
    head, _, tail = parts[SHEET].partition(b"<sheetData>")
    path = folder / "whitespace.xlsx"
    block = b" " * 2**22
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in parts.items():
            if name != SHEET:
                zf.writestr(name, data)
        with zf.open(SHEET, "w", force_zip64=True) as out:
            out.write(head)
            left = inflated_bytes
            while left > 0:
                out.write(block[: min(left, len(block))])
                left -= len(block)
            out.write(b"<sheetData>" + tail)
    return path


def random_bytes_csv(folder: Path, size: int = 100_000, seed: int = 13) -> Path:
    """``size`` random bytes named ``.csv``."""
    path = folder / "random.csv"
    path.write_bytes(random.Random(seed).randbytes(size))
    return path


#: name -> builder, in the order of issue 13's list.
BUILDERS = {
    "far corner, no <dimension>": far_corner_no_dimension,
    "lying <dimension> A1:B2": lying_dimension,
    "cell at H9999999": row_9999999,
    "dense cells (864 MB declared)": dense_cells,
    "whitespace zip (1.5 GiB)": whitespace_zip,
    "100 KB random bytes .csv": random_bytes_csv,
}
