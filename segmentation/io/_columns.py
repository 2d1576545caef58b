"""Map a file's own headers to the canonical columns of :mod:`segmentation.schema`.

Private helper of :mod:`segmentation.io` (which re-exports :func:`map_columns`).
"""

from __future__ import annotations

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
