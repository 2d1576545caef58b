"""What the command line says on standard error: the receipt, the notes, the fix.

Private helper of :mod:`segmentation.__main__`:

* :func:`receipt_lines` – the cleaning receipt (lines read, each non-empty
  bucket, lines kept);
* :func:`assumption_lines` – every assumption made on the way, one
  ``note: ...`` line each (DESIGN section 4: nothing is guessed silently);
* :func:`mapping_error_message` – a mapping error in one line: the headers
  found and the ``--map`` option that fixes it.

:func:`_speak` prints the receipt, then the notes and the cleaning rules.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from segmentation import schema
from segmentation.errors import ColumnMappingError


def receipt_lines(cleaning: dict) -> list[str]:
    """Return the cleaning receipt as lines of text: read, each bucket, kept.

    Parameters
    ----------
    cleaning : dict
        ``CleaningReport.to_dict()``: ``rows_in`` and ``counts`` (bucket ->
        lines, in bucket order, ``kept`` among them).

    Returns
    -------
    list of str
        ``lines read``, one indented line per non-empty bucket other than
        ``kept`` (in bucket order), then ``lines kept``; labels left-aligned,
        counts right-aligned with thousands separators.
    """
    counts = cleaning["counts"]
    rows = [("lines read", cleaning["rows_in"])]
    rows += [(f"  {b}", n) for b, n in counts.items() if n and b != "kept"]
    rows.append(("lines kept", counts.get("kept", 0)))
    label_width = max(len(label) for label, _ in rows)
    count_width = max(len(f"{n:,}") for _, n in rows)
    return [f"{label:<{label_width}}  {n:>{count_width},}" for label, n in rows]


def assumption_lines(notes: Sequence[str], rules: Sequence[str]) -> list[str]:
    """Return every assumption, one ``note: <sentence>`` line each.

    Parameters
    ----------
    notes : sequence of str
        What the reader assumed (``PreparedData.notes``).
    rules : sequence of str
        The cleaning rules that ran (``CleaningReport.rules``).
    """
    return [f"note: {sentence}" for sentence in [*notes, *rules]]


def _speak(cleaning: dict, notes: Sequence[str]) -> None:
    """Print the receipt of ``cleaning`` (a report dict), then notes and rules."""
    lines = [
        *receipt_lines(cleaning),
        *assumption_lines(notes, cleaning.get("rules", [])),
    ]
    print("\n".join(lines), file=sys.stderr)


def lifetime_lines(lifetime: dict) -> list[str]:
    """Return what the lifetime models found, or why they were withheld.

    Parameters
    ----------
    lifetime : dict
        The run report's ``lifetime`` object
        (:func:`segmentation.lifetime.fit_lifetime`).

    Returns
    -------
    list of str
        ``lifetime: ...`` lines: the fitted parameters (time in days), or
        ``lifetime: no numbers: <reason>``; each note of the fit; the
        holdout's predicted and actual orders when one was asked for (or why
        there is no comparison). Printed before the receipt and its notes.
    """
    lines = []
    if lifetime["withheld"]:
        lines.append(f"lifetime: no numbers: {lifetime['withheld']}")
    else:
        g = lifetime["bgnbd"]
        lines.append(
            f"lifetime: BG/NBD r={g['r']:.3g} alpha={g['alpha']:.3g} "
            f"a={g['a']:.3g} b={g['b']:.3g} ({lifetime['time_unit']}), "
            f"{lifetime['data']['repeat_customers']:,} repeat customers"
        )
        gg = lifetime["gamma_gamma"]
        if gg:
            lines.append(
                f"lifetime: Gamma-Gamma p={gg['p']:.3g} q={gg['q']:.3g} "
                f"v={gg['v']:.4g}; CLV discounted "
                f"{lifetime['monthly_discount_rate']:.2%} a month"
            )
    lines += [f"lifetime: {note}" for note in lifetime.get("notes", [])]
    holdout = lifetime.get("holdout")
    if holdout and holdout.get("withheld"):
        lines.append(f"lifetime: no holdout comparison: {holdout['withheld']}")
    elif holdout:
        lines.append(
            f"lifetime holdout: {holdout['predicted_orders']:,.0f} orders "
            f"predicted, {holdout['actual_orders']:,} made by the "
            f"{holdout['customers']:,} customers of before "
            f"{holdout['calibration_end']} in the last {holdout['days']} days"
        )
    return lines


#: How many of a file's headers a mapping error lists before "and N more".
HEADERS_LISTED = 20


def _example_header(canonical: str, headers: Sequence[str]) -> str | None:
    """Return a header worth naming in ``--map canonical=...``, or None.

    A header that is a synonym of ``canonical`` (two tied: the file is
    ambiguous), else the first header no synonym claims, else none.
    """
    own = schema.HEADER_SYNONYMS.get(canonical, ())
    known = {s for synonyms in schema.HEADER_SYNONYMS.values() for s in synonyms}
    norms = [(h, schema.normalize_header(h)) for h in headers]
    return next((h for h, n in norms if n in own), None) or next(
        (h for h, n in norms if n not in known), None
    )


def mapping_error_message(error: ColumnMappingError) -> str:
    """Return the one-line message of a mapping error: headers found, and the fix.

    The engine's first clause (file and problem) is kept; then the file's
    headers and the ``--map`` option that fixes it, with an example header. A
    file without a header row (``headers == []``) keeps the engine's message,
    which names ``--columns``.
    """
    headers = [str(h) for h in getattr(error, "headers", None) or []]
    missing = list(getattr(error, "missing", None) or [])
    if not headers or not missing:
        return str(error)
    what = str(error).split("; ", 1)[0]
    listed = ", ".join(headers[:HEADERS_LISTED])
    if len(headers) > HEADERS_LISTED:
        listed += f" and {len(headers) - HEADERS_LISTED} more"
    fix = " ".join(f"--map {canonical}=<header>" for canonical in missing)
    example = _example_header(missing[0], headers)
    if example is not None:
        fix += f", e.g. --map {shlex.quote(f'{missing[0]}={example}')}"
    return f"{what} (headers found: {listed}); pass {fix}"
