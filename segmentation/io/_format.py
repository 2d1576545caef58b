"""Tell what a file is from its first bytes: CSV text, a workbook, or something else.

Private helper of :mod:`segmentation.io` (which re-exports
:func:`detect_format`). For zip workbooks the limits that can be checked without
inflating anything are checked here: the sizes the central directory declares,
their inflation ratio and each worksheet's declared dimension;
:func:`scan_workbook` then streams the worksheets for the cells they hold
(:mod:`segmentation.io._sheet_scan`).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from segmentation.errors import InputFileError, LimitExceededError
from segmentation.io._excel_checks import check_declared_dimensions
from segmentation.io._sheet_scan import scan_worksheets

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
#: Leading bytes of files people upload by mistake -> what to call them.
_NOT_SPREADSHEETS = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "an executable program"),
    (b"{\\rtf", "an RTF document"),
)
_TEXT_MARKUP = (
    (b"<!doctype html", "an HTML page"),
    (b"<html", "an HTML page"),
    (b"<?xml", "an XML document"),
)
#: What Python's zipfile raises on a damaged archive (zlib for a bad stream,
#: RuntimeError for an encrypted member, NotImplementedError for a method).
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
)
#: Members (and wholes) inflating to less than this are not held to the
#: inflation ratio: a small part can compress well and harms nobody.
RATIO_EXEMPT_BYTES = 2**20
#: Zip members that say what a non-workbook zip is.
_ZIP_KINDS = (
    ("xl/workbook.bin", "an Excel binary workbook (.xlsb); save it as .xlsx"),
    ("content.xml", "an OpenDocument file (.ods); save it as .xlsx or .csv"),
    ("word/document.xml", "a Word document"),
    ("ppt/presentation.xml", "a PowerPoint presentation"),
)


def _zip_format(data: bytes, name: str, ext: str, limits) -> str:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except _ZIP_ERRORS as exc:
        raise InputFileError(f"{name} is a corrupt ZIP/Excel file: {exc}") from exc
    with zf:
        inflated = sum(info.file_size for info in infos)
        if inflated > limits.max_inflated_bytes:
            raise LimitExceededError(
                f"{name} would inflate to {inflated:,} bytes, over the limit "
                f"max_inflated_bytes={limits.max_inflated_bytes:,}",
                limit="max_inflated_bytes",
                value=inflated,
            )
        _check_ratio(infos, name, limits)
        members = {info.filename for info in infos}
        if "xl/workbook.xml" not in members:
            kind = next((k for m, k in _ZIP_KINDS if m in members), None)
            raise InputFileError(
                f"{name} is {kind or 'a ZIP archive without an Excel workbook'}, "
                "not a spreadsheet"
            )
        try:
            check_declared_dimensions(zf, name, limits)
        except _ZIP_ERRORS as exc:
            raise InputFileError(f"{name} is a corrupt ZIP/Excel file: {exc}") from exc
    return "xlsm" if ext == ".xlsm" else "xlsx"


def _ratio_error(name: str, what: str, inflated: int, packed: int, limits):
    ratio = inflated / max(packed, 1)
    return LimitExceededError(
        f"{name}: {what} would inflate {packed:,} bytes to {inflated:,} "
        f"({ratio:,.0f}:1), over the limit max_inflation_ratio="
        f"{limits.max_inflation_ratio:,}",
        limit="max_inflation_ratio",
        value=round(ratio),
    )


def _check_ratio(infos, name: str, limits) -> None:
    """Refuse a member, or the whole, inflating past ``max_inflation_ratio``.

    Reads the central directory only (nothing is inflated). A member that
    inflates to more than it declares is caught later, where it is read: the
    zip reader stops at the declared size and checks the CRC.
    """
    bound = limits.max_inflation_ratio
    for info in infos:
        inflated, packed = info.file_size, info.compress_size
        if inflated >= RATIO_EXEMPT_BYTES and inflated > bound * max(packed, 1):
            what = f"member {info.filename}"
            raise _ratio_error(name, what, inflated, packed, limits)
    inflated = sum(info.file_size for info in infos)
    packed = sum(info.compress_size for info in infos)
    if inflated >= RATIO_EXEMPT_BYTES and inflated > bound * max(packed, 1):
        raise _ratio_error(name, "the workbook", inflated, packed, limits)


def scan_workbook(data: bytes, name: str, limits) -> None:
    """Stream a zip workbook's worksheets and refuse it past the cell limits.

    See :func:`segmentation.io._sheet_scan.scan_worksheets`; an ``.xls``
    (not a zip) is left to the capped reader.

    Raises
    ------
    LimitExceededError
        Over ``max_columns``, ``max_rows`` or ``max_cells``.
    InputFileError
        A worksheet part that does not inflate to its declared size and CRC.
    """
    if not data.startswith(_ZIP):
        return
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            scan_worksheets(zf, name, limits)
    except _ZIP_ERRORS as exc:
        raise InputFileError(f"{name} is a corrupt ZIP/Excel file: {exc}") from exc


def detect_format(data: bytes, name: str, limits) -> str:
    """Return "csv", "xlsx", "xlsm" or "xls" from the content (and extension).

    Raises
    ------
    InputFileError
        The bytes are a PDF, an image, an archive without a workbook, an HTML or
        XML page, an encrypted (password-protected) workbook, or corrupt.
    LimitExceededError
        A zip workbook declares more inflated bytes, a higher inflation ratio,
        or more rows, columns or cells than allowed.
    """
    ext = Path(name).suffix.lower()
    if data.startswith(_ZIP):
        return _zip_format(data, name, ext, limits)
    if data.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise InputFileError(
                f"{name} is password-protected (encrypted); remove the password "
                "in Excel and upload it again"
            )
        if any(s.encode("utf-16-le") in data for s in ("Workbook", "Book")):
            return "xls"
        raise InputFileError(f"{name} is an Office file without an Excel workbook")
    for magic, kind in _NOT_SPREADSHEETS:
        if data.startswith(magic):
            raise InputFileError(f"{name} is {kind}, not a spreadsheet")
    head = data[:256].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    for magic, kind in _TEXT_MARKUP:
        if head.startswith(magic):
            raise InputFileError(f"{name} is {kind}, not a spreadsheet or CSV")
    return "csv"
