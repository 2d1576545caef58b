"""Stream a workbook's worksheet XML for the cells it really holds, before any reader.

Private helper of :mod:`segmentation.io`. A workbook reader allocates a sheet
as the rectangle from A1 to its largest row and column (fastexcel/calamine:
32 bytes a cell), whatever the sheet's ``<dimension>`` says. A 13 KB workbook
with one cell at XFD1048576 asks for 549 GB. :func:`scan_worksheets` inflates
every worksheet part once, in chunks (never a whole part in memory), and
finds the largest row and column referenced and the number of cells, the way
the reader places them:

* a ``<c>`` with ``r="H9999999"`` sits there;
* a ``<c>`` without ``r`` takes the reader's current place: the column after
  the previous cell of its row, on the row of the last ``<row r=...>`` (or
  the row after the previous one).

It refuses a sheet past :class:`~segmentation.io.Limits` ``max_columns``,
``max_rows`` (data rows: the rows below row 1) or ``max_cells`` (the rectangle
the reader would allocate, and the cells of the workbook), as soon as a chunk
shows it. Every part's inflated bytes are checked against the size the zip
declares (zipfile stops at it and checks the CRC), so the part read is the
part the reader reads.

Speed: the common layout (every cell's ``r`` first, ``<c r="A1"``) is read
with numpy over each 4 MiB chunk; a chunk with anything else (cells without
``r``, namespace prefixes, three-letter columns, rows of 8+ digits) is read
cell by cell with a regular expression (about 10 MB of XML a second). A
thread inflates the next chunk while numpy reads this one. Online Retail I's
190 MB sheet: 0.45 s of CPU to inflate and 0.85 s to read, measured on a busy
2-core machine (``benchmarks/hostile_files.py`` prints the wall time).
"""

from __future__ import annotations

import contextlib
import queue
import re
import threading
import zipfile
from dataclasses import dataclass

import numpy as np

from segmentation.errors import InputFileError, LimitExceededError

_CHUNK = 4 * 2**20
#: A single tag or text longer than this ends the scan (a refusal, in words).
MAX_ELEMENT_BYTES = 64 * 2**20
_PAD = 32
#: Bytes that end an element name (``<c`` then one of them is a c element).
_ENDS = np.zeros(256, dtype=bool)
_ENDS[[ord(c) for c in " \t\r\n/>"]] = True
_DIGITS = 8  # a quote within 8 bytes: rows up to 9,999,999 on the fast path
_WINDOW = np.arange(_DIGITS)
#: A c or row element with a namespace prefix (``<x:c``): read the slow way.
_PREFIXED = re.compile(rb"<[^\s/>!?:]+:(?:c|row)[\s/>]")
#: Start and end tags of c and row elements (quoted attribute values may
#: hold ``>``), with or without a prefix.
_TAG = re.compile(
    rb"<(/?)(?:[^\s/>!?:]+:)?(c|row)(?=[\s/>])((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>"
)
_R_ATTR = re.compile(rb"(?:^|\s)r\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_REF = re.compile(rb"([A-Za-z]*)([0-9]+)")


@dataclass
class SheetSize:
    """What a worksheet part holds, as the reader would place it.

    ``rows`` and ``columns`` are the largest row and column (1-based) of any
    cell; ``cells`` counts the ``<c>`` elements.
    """

    part: str
    rows: int = 0
    columns: int = 0
    cells: int = 0


class _State:
    """The reader's place (0-based, calamine's ``row_index``/``col_index``).

    After a chunk read the fast way, the place is an upper bound (the largest
    row and column seen), which keeps every later place an upper bound too.
    """

    def __init__(self) -> None:
        self.row = 0
        self.col = 0
        self.max_row_element = 0


def _letters_value(letters: bytes) -> int:
    value = 0
    for ch in letters.upper():
        value = value * 26 + ch - 64
    return value


def _slow(text: bytes, size: SheetSize, state: _State) -> None:
    """Place every c and row element of ``text`` exactly as the reader does."""
    for match in _TAG.finditer(text):
        closing, kind, attrs = match.group(1), match.group(2), match.group(3)
        if kind == b"row":
            if closing:
                state.row += 1
                state.col = 0
                continue
            found = _R_ATTR.search(attrs)
            ref = (
                _REF.fullmatch(found.group(1) or found.group(2) or b"")
                if found
                else None
            )
            if ref is not None:
                state.row = int(ref.group(2)) - 1
                state.max_row_element = max(state.max_row_element, state.row + 1)
            if attrs.rstrip().endswith(b"/"):
                state.row += 1
                state.col = 0
            continue
        if closing:
            continue
        found = _R_ATTR.search(attrs)
        ref = _REF.fullmatch(found.group(1) or found.group(2) or b"") if found else None
        if ref is not None and ref.group(1):
            row, col = int(ref.group(2)) - 1, _letters_value(ref.group(1)) - 1
            state.col = col
        else:  # no (usable) reference: the reader's current place
            row, col = state.row, state.col
        state.col += 1
        size.cells += 1
        size.rows = max(size.rows, row + 1)
        size.columns = max(size.columns, col + 1)


def _is_letter(x: np.ndarray) -> np.ndarray:
    low = x | 32
    return (low >= 97) & (low <= 122)


def _is_digit(x: np.ndarray) -> np.ndarray:
    return (x >= 48) & (x <= 57)


def _largest(a: np.ndarray, starts: np.ndarray) -> int | None:
    """Return the largest decimal number at ``starts``, ended by a quote.

    None when no quote ends one within 8 bytes (the caller reads the chunk
    the slow way). Compares the digits as big-endian integers of their bytes,
    longest first, and converts only the winner. Other bytes than digits are
    not looked for: the reader stops with an error at such a reference, before
    it allocates the sheet.
    """
    window = np.ascontiguousarray(a[starts[:, None] + _WINDOW])
    quote = window == 34
    length = quote.argmax(axis=1)
    if not quote[np.arange(len(starts)), length].all() or (length == 0).any():
        return None
    packed = window.view(">u8").ravel()
    keep = ~(np.uint64(2**64 - 1) >> (length.astype(np.uint64) * np.uint64(8)))
    key = ((packed & keep) >> np.uint64(8)) | (
        length.astype(np.uint64) << np.uint64(56)
    )
    best = int(key.argmax())
    digits = window[best, : length[best]].tobytes()
    return int(digits) if digits.isdigit() else None


def _fast(chunk: bytes, size: SheetSize, state: _State) -> bool:
    """Read a chunk whose every cell is ``<c r="A1"``; False when it is not."""
    a = np.frombuffer(chunk + b"\0" * _PAD, dtype=np.uint8)
    n = len(chunk)
    colon = np.flatnonzero(a[:n] == 58)
    if len(colon):  # a prefixed element (<x:c, <x:row) is read the slow way
        after = a[colon + 1]
        if (
            ((after == 99) & _ENDS[a[colon + 2]])
            | ((after == 114) & (a[colon + 2] == 111) & (a[colon + 3] == 119))
        ).any():
            return False
    lt = np.flatnonzero(a[:n] == 60)
    first, second = a[lt + 1], a[lt + 2]
    cells = lt[(first == 99) & _ENDS[second]]
    rows = lt[(first == 114) & (second == 111) & (a[lt + 3] == 119)]
    rows = rows[_ENDS[a[rows + 4]]]
    rows_without_r = 0
    if len(cells):
        canonical = (
            (a[cells + 2] == 32)
            & (a[cells + 3] == 114)
            & (a[cells + 4] == 61)
            & (a[cells + 5] == 34)
        )
        if not canonical.all():
            return False
        s = cells + 6
        b0, b1, b2 = a[s], a[s + 1], a[s + 2]
        one = _is_letter(b0) & _is_digit(b1)
        two = _is_letter(b0) & _is_letter(b1) & _is_digit(b2)
        if not (one | two).all():
            return False
        first_letter = (b0 | 32).astype(np.int64) - 96
        columns = np.where(
            one, first_letter, first_letter * 26 + (b1 | 32).astype(np.int64) - 96
        )
        largest = _largest(a, s + 1 + two)
        if largest is None:
            return False
        size.cells += len(cells)
        size.rows = max(size.rows, largest)
        size.columns = max(size.columns, int(columns.max()))
    if len(rows):
        with_r = (
            (a[rows + 4] == 32)
            & (a[rows + 5] == 114)
            & (a[rows + 6] == 61)
            & (a[rows + 7] == 34)
        )
        rows_without_r = int((~with_r).sum())
        if with_r.any():
            largest = _largest(a, rows[with_r] + 8)
            if largest is None:
                return False
            state.max_row_element = max(state.max_row_element, largest)
    # an upper bound of the reader's place after this chunk (see _State)
    state.row = max(state.row, size.rows, state.max_row_element) + rows_without_r
    state.col = max(state.col, size.columns)
    return True


def _refuse(name: str, size: SheetSize, limits, total_cells: int) -> None:
    where = f"worksheet {size.part.rsplit('/', 1)[-1]}"
    if size.columns > limits.max_columns:
        raise LimitExceededError(
            f"{name}: {where} has a cell in column {size.columns:,}, over the "
            f"limit max_columns={limits.max_columns:,}",
            limit="max_columns",
            value=size.columns,
        )
    if size.rows - 1 > limits.max_rows:
        raise LimitExceededError(
            f"{name}: {where} has a cell on row {size.rows:,} "
            f"({size.rows - 1:,} data rows), over the limit "
            f"max_rows={limits.max_rows:,}",
            limit="max_rows",
            value=size.rows - 1,
        )
    area = size.rows * size.columns
    if area > limits.max_cells:
        raise LimitExceededError(
            f"{name}: {where} spans {size.rows:,} rows x {size.columns:,} "
            f"columns = {area:,} cells, over the limit "
            f"max_cells={limits.max_cells:,}",
            limit="max_cells",
            value=area,
        )
    if total_cells > limits.max_cells:
        raise LimitExceededError(
            f"{name}: the worksheets hold {total_cells:,} cells, over the limit "
            f"max_cells={limits.max_cells:,}",
            limit="max_cells",
            value=total_cells,
        )


def _inflate(zf, info, blocks: queue.Queue, stop: threading.Event) -> None:
    """Put the part's inflated blocks on ``blocks``, then ``b""`` (or the error).

    Runs in a thread beside the scan: zlib releases the GIL while it inflates,
    as numpy does over a chunk, so the two take about the time of the longer.
    """
    try:
        with zf.open(info) as stream:
            while not stop.is_set():
                block = stream.read(_CHUNK)
                blocks.put(block)
                if not block:
                    return
    except BaseException as exc:  # raised again by the scan
        blocks.put(exc)


def _blocks(zf, info):
    """Yield the part's inflated blocks, ending with ``b""``, inflated ahead."""
    blocks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()
    worker = threading.Thread(
        target=_inflate, args=(zf, info, blocks, stop), name="worksheet-inflate"
    )
    worker.start()
    try:
        while True:
            block = blocks.get()
            if isinstance(block, BaseException):
                raise block
            yield block
            if not block:
                return
    finally:
        stop.set()
        while worker.is_alive():  # free a put() waiting for room
            try:
                blocks.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()


def _scan_part(zf, info, name, limits, cells_before: int) -> SheetSize:
    size, state = SheetSize(info.filename), _State()
    carry = b""
    with contextlib.closing(_blocks(zf, info)) as blocks:
        for block in blocks:
            text = carry + block
            if block:
                cut = text.rfind(b"<")
                cut = cut if cut > 0 else len(text)
                text, carry = text[:cut], text[cut:]
                if len(carry) > MAX_ELEMENT_BYTES:
                    raise InputFileError(
                        f"{name}: worksheet {info.filename.rsplit('/', 1)[-1]} has "
                        f"an element longer than {MAX_ELEMENT_BYTES:,} bytes; not a "
                        "workbook a spreadsheet program writes"
                    )
            if text and not _fast(text, size, state):
                _slow(text, size, state)
            _refuse(name, size, limits, cells_before + size.cells)
    return size


def scan_worksheets(zf: zipfile.ZipFile, name: str, limits) -> list[SheetSize]:
    """Refuse a workbook whose worksheets are past the limits, streaming each part.

    Parameters
    ----------
    zf : zipfile.ZipFile
        The open workbook.
    name : str
        File name for messages.
    limits : Limits
        ``max_columns``, ``max_rows`` and ``max_cells``.

    Returns
    -------
    list of SheetSize
        One per worksheet part (``xl/worksheets/*.xml``), in zip order.

    Raises
    ------
    LimitExceededError
        A cell past ``max_columns``, a cell on a row past ``max_rows`` + 1 (the
        header), a sheet whose rectangle A1..(largest row, largest column)
        holds more than ``max_cells`` cells, or more cells in all than that;
        the message names the worksheet, the value and the limit.
    InputFileError
        A single element longer than :data:`MAX_ELEMENT_BYTES`.
    zipfile.BadZipFile, zlib.error, EOFError
        A part that does not inflate to its declared size and CRC (the caller
        reports a corrupt file).
    """
    sizes: list[SheetSize] = []
    total = 0
    for info in zf.infolist():
        part = info.filename
        if not (part.startswith("xl/worksheets/") and part.endswith(".xml")):
            continue
        size = _scan_part(zf, info, name, limits, total)
        total += size.cells
        sizes.append(size)
    return sizes
