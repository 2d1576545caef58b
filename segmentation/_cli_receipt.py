"""What the command line says on standard error: the receipt, the notes, the fix.

Private helper of :mod:`segmentation.__main__`:

* :func:`receipt_lines` – the cleaning receipt (lines read, each non-empty
  bucket, lines kept);
* :func:`assumption_lines` – every assumption made on the way, one
  ``note: ...`` line each (DESIGN section 4: nothing is guessed silently);
* :func:`mapping_error_message` – a mapping error in one line: the headers
  found and the ``--map`` option that fixes it.

:func:`_speak` prints the receipt, then the notes and the cleaning rules;
:func:`method_lines` says which clustering made the value tiers and how the four
methods compare; :func:`migration_lines` what moved between the two dates of
``--compare-days``.
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


def migration_lines(migration: dict) -> list[str]:
    """Return what changed between the two dates of a migration.

    Parameters
    ----------
    migration : dict
        The run report's ``migration`` object
        (:func:`segmentation.migration.migrate`).

    Returns
    -------
    list of str
        ``migration: ...`` lines: the two dates and the customers at each; the
        customers and revenue (monetary at as_of) that came in, moved up, stayed
        and moved down a value tier (and moved to or from Unclustered, when
        any did); the same for status (up = more current); then one indented
        line per value tier move between different tiers.
    """
    m = migration
    lines = [
        f"migration: {m['compared_as_of']} ({m['days']} days before) -> "
        f"{m['as_of']}: {m['customers_before']:,} customers then, "
        f"{m['customers']:,} now ({m['new_customers']:,} new); revenue = "
        "monetary at as_of"
    ]
    for what, key in (
        ("value tier", "tier_directions"),
        ("status", "status_directions"),
    ):
        parts = [
            f"{d} {v['customers']:,} ({v['revenue']:,.2f})"
            for d, v in m[key].items()
            if v["customers"] or d != "unranked"
        ]
        lines.append(f"migration: {what}: " + ", ".join(parts))
    lines += [
        f"  {move['from']} -> {move['to']}: {move['customers']:,} "
        f"customer{'' if move['customers'] == 1 else 's'}, {move['revenue']:,.2f}"
        for move in m["moves"]
        if move["from"] != move["to"]
    ]
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


def method_lines(result) -> list[str]:
    """Return the clustering method of a run and the comparison of the four.

    Parameters
    ----------
    result : Segmentation
        A run of :func:`segmentation.pipeline.segment`; ``method_comparison``
        may be None (then only the method line).

    Returns
    -------
    list of str
        ``method: <name> ...`` (with the fallback kept, Ward's sample or
        HDBSCAN's sizes and Unclustered customers), then a table of the methods
        (tiers, silhouette, Davies–Bouldin, Calinski–Harabasz, stability,
        smallest group share, Unclustered share, fit seconds; the chosen one
        marked ``*``) and ``recommended method: <name>: <rule>``.
    """
    model = result.value_model
    kept = getattr(model, "method_", "kmeans")
    info = getattr(model, "fit_info_", None) or {}
    line = f"method: {result.method}, {len(model.tier_names_)} value tiers"
    if kept != result.method:
        line += f" (its partition broke the value order: kept the {kept} fallback)"
    if info.get("sample_seed") is not None:
        line += (
            f"; Ward fitted on {info['fitted_on']:,} customers (seed "
            f"{info['sample_seed']}), the others joined the nearest centroid"
        )
    if "min_cluster_size" in info:
        line += (
            f"; HDBSCAN min_cluster_size {info['min_cluster_size']:,} "
            f"(k={result.k}: n/2k), min_samples {info['min_samples']}, "
            f"{info['unclustered']:,} customers Unclustered"
        )
    lines = [line]
    comparison = getattr(result, "method_comparison", None)
    if comparison is None:
        return [line + " (compare gmm, ward and hdbscan with --compare-methods)"]
    header = (
        f"  {'method':<8} {'tiers':>5} {'silh':>6} {'DB':>6} {'CH':>9} "
        f"{'stab':>6} {'min grp':>7} {'unclust':>7} {'fit s':>6}"
    )
    lines += [f"method comparison, k={comparison.k}:", header]
    for method, row in comparison.table.iterrows():
        mark = "*" if method == result.method else " "
        lines.append(
            f"{mark} {method:<8} {row['tiers']:>5} {row['silhouette']:>6.3f} "
            f"{row['davies_bouldin']:>6.3f} {row['calinski_harabasz']:>9.1f} "
            f"{row['stability']:>6.3f} {row['smallest_group_share']:>7.1%} "
            f"{row['unclustered_share']:>7.1%} {row['fit_s']:>6.2f}"
        )
    lines.append(f"recommended method: {comparison.recommended}: {comparison.rule}")
    return lines
