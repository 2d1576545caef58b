"""Map a file's own headers to the canonical columns of :mod:`segmentation.schema`.

Private helper of :mod:`segmentation.io` (which re-exports :func:`map_columns`).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence

from segmentation import schema
from segmentation.errors import ColumnMappingError

#: Headers listed in a "headers are: ..." message before it is shortened.
_MAX_LISTED_HEADERS = 40


def unique_headers(headers: Iterable[object]) -> list[str]:
    """Return headers as stripped text, duplicates numbered as pandas does.

    Parameters
    ----------
    headers : iterable of object
        Header cells as read (``None`` and NaN give ``""``).

    Returns
    -------
    list of str
        ``["Price", "Qty", "Price"]`` gives ``["Price", "Qty", "Price.1"]``.
    """
    out: list[str] = []
    seen: set[str] = set()
    for header in headers:
        text = "" if header is None or header != header else str(header).strip()
        candidate, n = text, 0
        while candidate in seen:
            n += 1
            candidate = f"{text}.{n}"
        seen.add(candidate)
        out.append(candidate)
    return out


def _listed(headers: Sequence[str]) -> str:
    shown = ", ".join(h if h else "(blank)" for h in headers[:_MAX_LISTED_HEADERS])
    extra = len(headers) - _MAX_LISTED_HEADERS
    return shown + (f" ... and {extra} more" if extra > 0 else "")


def _apply_overrides(
    headers: list[str], overrides: Mapping[str, str], prefix: str
) -> dict[str, str]:
    chosen: dict[str, str] = {}
    by_norm = {}
    for header in headers:
        by_norm.setdefault(schema.normalize_header(header), []).append(header)
    for canonical, wanted in overrides.items():
        if canonical not in schema.CANONICAL_COLUMNS:
            raise ColumnMappingError(
                f"{prefix}mapping names an unknown column {canonical!r}; "
                f"choose among {', '.join(schema.CANONICAL_COLUMNS)}",
                headers=headers,
                missing=[],
            )
        if wanted in headers:
            chosen[canonical] = wanted
        elif len(by_norm.get(schema.normalize_header(wanted), [])) == 1:
            chosen[canonical] = by_norm[schema.normalize_header(wanted)][0]
        else:
            raise ColumnMappingError(
                f"{prefix}mapping {canonical}={wanted!r}: the file has no header "
                f"{wanted!r}; headers are: {_listed(headers)}",
                headers=headers,
                missing=[canonical],
            )
    return chosen


def map_columns(
    headers: Sequence[object],
    overrides: Mapping[str, str] | None = None,
    *,
    source_name: str | None = None,
) -> dict[str, str]:
    """Match a file's headers to canonical columns.

    Headers are compared after :func:`segmentation.schema.normalize_header` with
    the synonyms of :data:`segmentation.schema.HEADER_SYNONYMS`; where two headers
    match one canonical column, the one earlier in the synonym list wins.

    Parameters
    ----------
    headers : sequence of object
        The file's headers, already unique (see :func:`unique_headers`).
    overrides : mapping of str to str, optional
        ``{"customer_id": "Kundennummer"}``: canonical column -> header. Wins over
        the synonyms; the header is matched exactly, else by normalised form.
    source_name : str, optional
        File name used as the prefix of error messages.

    Returns
    -------
    dict of str to str
        Canonical column -> header, for every canonical column found, in the
        order of :data:`segmentation.schema.CANONICAL_COLUMNS`.

    Raises
    ------
    ColumnMappingError
        An override names an unknown canonical column or a header the file does
        not have; a required column (``schema.REQUIRED_COLUMNS`` and one of
        ``schema.VALUE_COLUMNS``) has no header; or two headers match one
        canonical column equally well. Carries ``headers`` and ``missing``.
    """
    names = [str(h) for h in headers]
    prefix = f"{source_name}: " if source_name else ""
    chosen = _apply_overrides(names, overrides or {}, prefix)
    taken = set(chosen.values())
    for canonical in schema.CANONICAL_COLUMNS:
        if canonical in chosen:
            continue
        synonyms = schema.HEADER_SYNONYMS[canonical]
        ranked: dict[int, list[str]] = {}
        for header in names:
            norm = schema.normalize_header(header)
            if header not in taken and norm in synonyms:
                ranked.setdefault(synonyms.index(norm), []).append(header)
        if not ranked:
            continue
        best = ranked[min(ranked)]
        if len(best) > 1:
            raise ColumnMappingError(
                f"{prefix}columns {', '.join(repr(h) for h in best)} could all be "
                f"{canonical}; choose one with a mapping",
                headers=names,
                missing=[canonical],
            )
        chosen[canonical] = best[0]
        taken.add(best[0])
    missing = [c for c in schema.REQUIRED_COLUMNS if c not in chosen]
    if not any(c in chosen for c in schema.VALUE_COLUMNS):
        missing.append(schema.UNIT_PRICE)
    if missing:
        wanted = ", ".join(missing).replace(
            schema.UNIT_PRICE, f"{schema.UNIT_PRICE} (or {schema.AMOUNT})"
        )
        raise ColumnMappingError(
            f"{prefix}no column for {wanted}; headers are: {_listed(names)}",
            headers=names,
            missing=missing,
        )
    return {c: chosen[c] for c in schema.CANONICAL_COLUMNS if c in chosen}


def maps_required(
    headers: Sequence[object], overrides: Mapping[str, str] | None = None
) -> bool:
    """Return whether ``headers`` provide every required column."""
    try:
        map_columns(unique_headers(headers), overrides)
    except ColumnMappingError:
        return False
    return True


# --- files without a header row -------------------------------------------------

#: What ``columns`` entries mean "skip this column".
SKIP_COLUMN = ("", "-")
_NUMBER_CELL = re.compile(r"[+-]?[£$€]?(?:\d[\d.,' ]*\d|\d)(?:\s?[€%])?")
_DATE_CELL = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?"
)
_KNOWN_HEADERS = frozenset(
    s for synonyms in schema.HEADER_SYNONYMS.values() for s in synonyms
)


def _filled(cell: object) -> bool:
    """Whether a cell holds something (not None, NaN, NaT or blank text)."""
    if cell is None:
        return False
    if isinstance(cell, str):
        return bool(cell.strip())
    try:
        return not bool(cell != cell)  # NaN, NaT
    except TypeError:  # pd.NA
        return False


def _is_data_cell(cell: object) -> bool:
    """Whether a cell reads as a number or a date (typed or as text)."""
    if isinstance(cell, bool):
        return False
    if isinstance(cell, int | float | datetime.date | datetime.datetime):
        return True
    text = str(cell).strip()
    return bool(_NUMBER_CELL.fullmatch(text) or _DATE_CELL.fullmatch(text))


def looks_like_data(cells: Sequence[object]) -> bool:
    """Return whether a first line is data rather than a header row.

    True when no cell is a known header (a synonym of a canonical column) and
    most non-empty cells (more than half, at least two) are numbers or dates:
    ``00001 19970101 1 11.77`` is data, ``CustomerID Date Qty Price`` is not.

    Parameters
    ----------
    cells : sequence of object
        The line's cells, as text or as a workbook reader typed them.

    Returns
    -------
    bool
    """
    filled = [c for c in cells if _filled(c)]
    if len(filled) < 2:
        return False
    if any(schema.normalize_header(c) in _KNOWN_HEADERS for c in filled):
        return False
    return sum(map(_is_data_cell, filled)) * 2 > len(filled)


def no_header_error(name: str, first_line: str, n_columns: int) -> ColumnMappingError:
    """Return the error for a file whose first line is data (no header row).

    Its ``headers`` are empty (the first line's cells are values, not names),
    ``missing`` is empty and ``first_line`` holds the line as read.
    """
    shown = first_line if len(first_line) <= 120 else first_line[:119] + "…"
    return ColumnMappingError(
        f"{name} has no header row: its first line {shown!r} is data "
        f"({n_columns} columns). Add a header line, or pass --columns "
        "customer_id,invoice_date,quantity,amount (one canonical name per column, "
        "in order)",
        headers=[],
        missing=[],
        first_line=first_line,
    )


def headers_from_columns(
    columns: Sequence[str] | str, n_fields: int, name: str
) -> tuple[list[str], dict[str, str]]:
    """Headers and mapping for a file without a header row, from ``columns``.

    Parameters
    ----------
    columns : sequence of str, or str
        One canonical name per column of the file, in order; ``""`` or ``"-"``
        skips a column. A single string is split at commas
        (``"customer_id,invoice_date,-,amount"``).
    n_fields : int
        Columns of the file's first line.
    name : str
        File name for messages.

    Returns
    -------
    tuple of (list of str, dict of str to str)
        Headers (the canonical names; ``column_<i>``, 1-based, for a skipped
        column) and the mapping canonical -> header.

    Raises
    ------
    ColumnMappingError
        An unknown or repeated name, or not one name per column.
    """
    names = columns.split(",") if isinstance(columns, str) else list(columns)
    names = [str(n).strip() for n in names]
    given = [n for n in names if n not in SKIP_COLUMN]
    unknown = [n for n in given if n not in schema.CANONICAL_COLUMNS]
    if unknown:
        raise ColumnMappingError(
            f"{name}: columns names an unknown column {unknown[0]!r}; choose among "
            f"{', '.join(schema.CANONICAL_COLUMNS)} (or - to skip a column)",
            headers=[],
            missing=[],
        )
    repeated = sorted({n for n in given if given.count(n) > 1})
    if repeated:
        raise ColumnMappingError(
            f"{name}: columns names {repeated[0]!r} twice; name each column once",
            headers=[],
            missing=[],
        )
    if len(names) != n_fields:
        raise ColumnMappingError(
            f"{name}: {len(names)} column names given but the file has {n_fields} "
            "columns; give one name per column, in order (- to skip one)",
            headers=[],
            missing=[],
        )
    headers = [
        n if n not in SKIP_COLUMN else f"column_{i + 1}" for i, n in enumerate(names)
    ]
    return headers, {n: n for n in given}


def named_columns_note(headers: Sequence[str]) -> str:
    """Return the note for columns named by ``columns`` (``-`` = skipped)."""
    names = ["-" if h.startswith("column_") else h for h in headers]
    return f"no header row: columns read as {', '.join(names)}, as given"


# --- other customer keys -----------------------------------------------------------

#: Words of a header that may hold a customer key.
_CUSTOMER_WORDS = ("customer", "client", "buyer", "user", "member", "email", "account")
#: Words of an ``..._id`` header that say it keys something else.
_OTHER_KEY_WORDS = (
    "order",
    "invoice",
    "item",
    "product",
    "sku",
    "stock",
    "article",
    "row",
    "line",
    "position",
    "transaction",
    "receipt",
    "payment",
    "shipment",
    "shipping",
    "tracking",
    "seller",
    "store",
    "shop",
)
_ID_SUFFIX = re.compile(r"(?:^|[^A-Za-z])[Ii][Dd]$|[a-z0-9](?:ID|Id)$")


def customer_key_headers(
    headers: Sequence[str], mapping: Mapping[str, str]
) -> list[str]:
    """Unmapped headers that look like another customer key.

    A header qualifies when its normalised form contains customer, client, buyer,
    user, member, email or account, or when it ends in ``id`` as a word
    (``customer_unique_id``, ``User ID``, ``accountId``; not ``Paid``) and does
    not name another key (``order_item_id``, ``Row ID``, ``product_id``).

    Parameters
    ----------
    headers : sequence of str
        The file's headers.
    mapping : mapping of str to str
        Canonical column -> header; mapped headers never qualify.

    Returns
    -------
    list of str
        The qualifying headers, in file order.
    """
    used = set(mapping.values())
    out = []
    for header in headers:
        if header in used or not header:
            continue
        norm = schema.normalize_header(header)
        if any(w in norm for w in _CUSTOMER_WORDS):
            out.append(header)
        elif _ID_SUFFIX.search(header.strip()) and not any(
            w in norm for w in _OTHER_KEY_WORDS
        ):
            out.append(header)
    return out
