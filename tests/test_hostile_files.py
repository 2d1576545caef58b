"""Hostile files are refused early, in words that name the limit (issue 13, item 3).

The crafted files come from ``tests/hostile_files.py``: a far-corner cell with no
``<dimension>``, a lying ``<dimension>``, a cell at H9999999, a dense sheet of
cells without references (864 MB declared), a whitespace zip inflating to
1.5 GiB, and 100 KB of random bytes named ``.csv``. Each goes through the
command line (one ``error:`` line, exit 2) and through the engine
(``load_transactions`` and ``pipeline.prepare``: ``LimitExceededError`` whose
``limit`` names the limit, or ``InputFileError`` for the random bytes). Speed
and memory of the refusals are measured by ``benchmarks/hostile_files.py``.
"""

from __future__ import annotations

import dataclasses
import io
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from segmentation import pipeline
from segmentation.errors import InputFileError, LimitExceededError
from segmentation.io import DEFAULT_LIMITS, load_transactions
from segmentation.io._format import RATIO_EXEMPT_BYTES
from segmentation.io._sheet_scan import scan_worksheets
from tests import hostile_files

ROOT = Path(__file__).resolve().parents[1]

#: builder -> (limit named, words the message holds)
EXPECTED = {
    hostile_files.far_corner_no_dimension: ("max_columns", "column 16,384"),
    hostile_files.lying_dimension: ("max_columns", "column 16,384"),
    hostile_files.row_9999999: ("max_cells", "9,999,999 rows x 8 columns"),
    hostile_files.dense_cells: ("max_inflation_ratio", "864,003,038"),
    hostile_files.whitespace_zip: ("max_inflation_ratio", "1,610,614,201"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.fixture(scope="module")
def built(folder) -> dict:
    """Every hostile file, built once (the two big zips take a few seconds)."""
    return {builder: builder(folder) for builder in hostile_files.BUILDERS.values()}


def _cli(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "segmentation", str(path), "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize("builder", list(EXPECTED), ids=lambda b: b.__name__)
def test_cli_refuses_hostile_workbook_naming_the_limit(built, builder):
    limit, words = EXPECTED[builder]
    done = _cli(built[builder])
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ")
    assert f"limit {limit}=" in lines[0]
    assert words in lines[0]
    assert built[builder].name in lines[0]


@pytest.mark.slow
@pytest.mark.parametrize("builder", list(EXPECTED), ids=lambda b: b.__name__)
def test_engine_refuses_hostile_workbook_naming_the_limit(built, builder):
    limit, words = EXPECTED[builder]
    with pytest.raises(LimitExceededError) as loading:
        load_transactions(built[builder])
    assert loading.value.limit == limit
    assert words in str(loading.value)
    with pytest.raises(LimitExceededError) as preparing:
        pipeline.prepare(built[builder].read_bytes(), filename="upload.xlsx")
    assert preparing.value.limit == limit


def test_random_bytes_csv_refused_as_binary(built):
    path = built[hostile_files.random_bytes_csv]
    with pytest.raises(InputFileError, match=r"random\.csv is a binary file") as error:
        load_transactions(path)
    assert not isinstance(error.value, LimitExceededError)
    # random bytes hold about 28 control bytes in 256 (11 %)
    count = int(str(error.value).split("(")[1].split(" of")[0].replace(",", ""))
    assert 0.09 * 32768 < count < 0.13 * 32768
    done = _cli(path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: {error.value}",
    ]


@pytest.mark.parametrize(
    "data, words",
    [
        # random bytes of 128..255 hold no control byte and no line break: the
        # dialect detection took 42 s on them before
        (bytes(range(128, 256)) * 800, "no line break in its first 32,768 bytes"),
        (b"\x00\x01\x02\x03" * 25_000, "binary file"),
        (b"InvoiceNo,Amount\n" + b"\x07" * 50_000, "binary file"),
    ],
    ids=["high bytes", "low control bytes", "bell characters"],
)
def test_csv_junk_refused_before_sniffing(data, words):
    with pytest.raises(InputFileError, match=words):
        load_transactions(data, filename="junk.csv")


def test_utf16_without_bom_is_not_taken_for_binary():
    text = "InvoiceNo,CustomerID,InvoiceDate,UnitPrice\n536365,17850,2010-12-01,2.55\n"
    from segmentation.io._csv import refuse_binary

    refuse_binary(text.encode("utf-16-le"), "wide.csv")  # no error
    refuse_binary(text.encode("utf-16-be") * 1000, "wide.csv")


# --- the scan, by hand --------------------------------------------------------------


def _workbook(sheet_data: bytes, dimension: bytes = b"") -> zipfile.ZipFile:
    """The base workbook with its sheet data replaced by ``sheet_data``."""
    parts = hostile_files._base_parts()
    xml = parts[hostile_files.SHEET]
    head, _, rest = xml.partition(b"<sheetData>")
    _, _, tail = rest.partition(b"</sheetData>")
    head = re.sub(rb"<dimension[^>]*>", dimension, head)
    parts[hostile_files.SHEET] = (
        head + b"<sheetData>" + sheet_data + b"</sheetData>" + tail
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return zipfile.ZipFile(buffer)


def test_scan_counts_the_base_workbook():
    parts = hostile_files._base_parts()
    assert re.search(rb'<dimension ref="A1:E4" ?/>', parts[hostile_files.SHEET])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    (size,) = scan_worksheets(zipfile.ZipFile(buffer), "base.xlsx", DEFAULT_LIMITS)
    # header + 3 lines, 5 columns: A1..E4, every cell present
    assert (size.rows, size.columns, size.cells) == (4, 5, 20)


@pytest.mark.parametrize(
    "sheet_data, expected",
    [
        # cells without r take the column after the previous one, on the row
        # of the last <row r>: (3,A) (3,D) (3,E) then </row> -> row 4: (4,A)
        (
            b'<row r="3"><c><v>1</v></c><c r="D3"><v>1</v></c><c><v>1</v></c></row>'
            b"<row><c><v>1</v></c></row>",
            (4, 5, 4),
        ),
        # a prefixed element counts like any other
        (b'<row r="1"><x:c r="C7"><x:v>1</x:v></x:c></row>', (7, 3, 1)),
        # single quotes and spaces around '='
        (b"<row r='2'><c t=\"n\" r = 'AB12'><v>1</v></c></row>", (12, 28, 1)),
        # the cell's own reference wins over its row's
        (b'<row r="2"><c r="B900"><v>1</v></c></row>', (900, 2, 1)),
    ],
    ids=["without r", "prefixed", "quotes", "cell over row"],
)
def test_scan_places_cells_as_the_reader_does(sheet_data, expected):
    (size,) = scan_worksheets(_workbook(sheet_data), "hand.xlsx", DEFAULT_LIMITS)
    assert (size.rows, size.columns, size.cells) == expected


def test_scan_refuses_too_many_cells_under_the_row_and_column_limits():
    rows = b"".join(
        f'<row r="{r}"><c r="A{r}"><v>1</v></c><c r="B{r}"><v>2</v></c></row>'.encode()
        for r in range(1, 101)
    )
    limits = dataclasses.replace(DEFAULT_LIMITS, max_cells=199)
    with pytest.raises(LimitExceededError, match="100 rows x 2 columns = 200") as error:
        scan_worksheets(_workbook(rows), "small.xlsx", limits)
    assert (error.value.limit, error.value.value) == ("max_cells", 200)
    scan_worksheets(
        _workbook(rows), "small.xlsx", dataclasses.replace(limits, max_cells=200)
    )


def test_scan_counts_repeated_cells():
    # the same cell 300 times: a 1x1 rectangle, but 300 cells for the reader
    rows = b'<row r="1">' + b'<c r="A1"><v>1</v></c>' * 300 + b"</row>"
    limits = dataclasses.replace(DEFAULT_LIMITS, max_cells=299)
    with pytest.raises(LimitExceededError, match="hold 300 cells") as error:
        scan_worksheets(_workbook(rows), "repeat.xlsx", limits)
    assert error.value.limit == "max_cells"


def test_declared_dimension_over_max_cells_is_refused():
    book = _workbook(
        b'<row r="1"><c r="A1"><v>1</v></c></row>', b'<dimension ref="A1:GR100000"/>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for info in book.infolist():
            zf.writestr(info.filename, book.read(info))
    with pytest.raises(LimitExceededError, match="declares") as error:
        load_transactions(buffer.getvalue(), filename="declared.xlsx")
    assert (error.value.limit, error.value.value) == ("max_cells", 200 * 100_000)


def test_inflation_ratio_exempts_small_members():
    # 512 KiB of spaces compresses ~1000:1, but the member and the whole
    # inflate to less than 1 MiB: exempt; 1 MiB of spaces is not
    for size, refused in ((RATIO_EXEMPT_BYTES // 2, False), (RATIO_EXEMPT_BYTES, True)):
        parts = hostile_files._base_parts()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
            zf.writestr("docProps/padding.xml", b" " * size)
        if refused:
            with pytest.raises(
                LimitExceededError, match=r"member docProps/padding\.xml"
            ):
                load_transactions(buffer.getvalue(), filename="pad.xlsx")
        else:
            assert (
                len(load_transactions(buffer.getvalue(), filename="pad.xlsx").lines)
                == 3
            )


# --- the child process ------------------------------------------------------------


@pytest.mark.realdata
def test_child_parse_reads_real_workbook(retail_ii_sample):
    steps = []
    table = load_transactions(retail_ii_sample, progress=lambda s, f: steps.append(s))
    # the README's counts: 14,269 + 20,497 lines on two sheets
    assert len(table.lines) == 34_766
    assert table.sheets_read == ["Year 2009-2010", "Year 2010-2011"]
    assert steps[0] == "Checking the workbook's size"
    assert [s for s in steps if s.startswith("Parsing sheet")] == [
        "Parsing sheet 'Year 2009-2010'",
        "Parsing sheet 'Year 2010-2011'",
    ]


_CAPPED_READ = """
import dataclasses, sys
from segmentation.errors import LimitExceededError
from segmentation.io import DEFAULT_LIMITS, load_transactions
limits = dataclasses.replace(DEFAULT_LIMITS, max_parse_memory=2**20)
try:
    load_transactions(sys.argv[1], limits=limits)
except LimitExceededError as error:
    print(error.limit)
    print(error)
"""


@pytest.mark.realdata
def test_memory_cap_is_named(retail_ii_sample):
    # In a fresh process: the cap is address space the child may ADD to what it
    # had when forked, and a parent that already holds large freed arenas (this
    # test process, after hundreds of tests) would let the child parse in them.
    done = subprocess.run(
        [sys.executable, "-c", _CAPPED_READ, str(retail_ii_sample)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    limit, message = done.stdout.splitlines()[:2]
    assert limit == "max_parse_memory"
    assert "max_parse_memory=1,048,576" in message


@pytest.mark.realdata
def test_time_limit_is_named(retail_ii_sample):
    limits = dataclasses.replace(DEFAULT_LIMITS, max_parse_seconds=0.001)
    with pytest.raises(LimitExceededError, match=r"max_parse_seconds=0\.001") as error:
        load_transactions(retail_ii_sample, limits=limits)
    assert error.value.limit == "max_parse_seconds"


def test_reader_errors_come_back_from_the_child():
    # a workbook without the required columns: the child's ColumnMappingError
    # reaches the caller with its headers
    from openpyxl import Workbook

    from segmentation.errors import ColumnMappingError

    book = Workbook()
    book.active.append(["Colour", "Size"])
    book.active.append(["red", 3])
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(ColumnMappingError) as error:
        load_transactions(buffer.getvalue(), filename="colours.xlsx")
    assert error.value.headers == ["Colour", "Size"]
