"""Command line: ``python -m segmentation INPUT [-k K] [-o customers.csv] ...``.

Runs the same recipe as the app on a file (or the built-in sample with
``--sample``), writes the labelled customer CSV and the run report, and speaks on
standard error: a progress line per step, then the cleaning receipt (lines read,
each non-empty bucket, lines kept) and every assumption made on the way, one
``note: ...`` line each (DESIGN section 4: nothing is guessed silently).
``--quiet`` keeps only errors. Exit codes: 0 success; 2 bad input or bad
arguments, with a single ``error: ...`` line on standard error. When cleaning
leaves no line and ``--report`` is given, the report still holds the receipt.
What is said (the receipt, the notes, a mapping error's fix) is worded in
:mod:`segmentation._cli_receipt`.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from sqlalchemy import text

from segmentation import _warm_imports, pipeline, reports, schema, settings
from segmentation._cli_receipt import (
    _speak,
    lifetime_lines,
    mapping_error_message,
    method_lines,
    migration_lines,
)
from segmentation.datasets import SAMPLE_NAME
from segmentation.errors import (
    ColumnMappingError,
    EmptyResultError,
    SegmentationError,
)
from segmentation.io import COMMAND_LINE_LIMITS
from segmentation.lifetime import LifetimeSettings
from segmentation.runs import RunStore

EXIT_OK = 0
EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one ``error:`` line and exit 2."""

    def error(self, message: str) -> None:
        self.exit(EXIT_BAD_INPUT, f"error: {message}\n")


def _mapping_item(text: str) -> tuple[str, str]:
    canonical, sep, header = text.partition("=")
    if not sep or not canonical.strip() or not header.strip():
        raise argparse.ArgumentTypeError(f"--map takes canonical=Header, got {text!r}")
    if canonical.strip() not in schema.CANONICAL_COLUMNS:
        raise argparse.ArgumentTypeError(
            f"--map: unknown column {canonical.strip()!r}; choose from "
            + ", ".join(schema.CANONICAL_COLUMNS)
        )
    return canonical.strip(), header.strip()


def _k(text: str) -> int:
    try:
        k = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"k must be a whole number, got {text!r}")
    if k not in settings.K_RANGE:
        raise argparse.ArgumentTypeError(
            f"k must be between {settings.K_MIN} and {settings.K_MAX}, got {k}"
        )
    return k


def _date(text: str) -> pd.Timestamp:
    try:
        return pd.Timestamp(text).normalize()
    except ValueError:
        raise argparse.ArgumentTypeError(f"--as-of takes YYYY-MM-DD, got {text!r}")


def _share(text: str) -> float:
    try:
        share = float(text)
    except ValueError:
        share = float("nan")
    if not 0 < share <= 0.5:
        raise argparse.ArgumentTypeError(
            f"--anomaly-share must be in (0, 0.5], got {text!r}"
        )
    return share


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise argparse.ArgumentTypeError(
            f"takes a whole number of days >= 1, got {text!r}"
        )
    return days


#: An account name, as ``python -m app users add`` accepts it (app.accounts:
#: letters, digits and ``_ . @ -``, 1 to 64 characters).
USER_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")


def _user(text: str) -> str:
    if not USER_NAME.fullmatch(text):
        raise argparse.ArgumentTypeError(
            f"--user: {text!r} is not an account name (1 to 64 letters, digits "
            "and _ . @ -)"
        )
    return text


#: What ``--columns`` accepts for a column to leave unused.
SKIP_COLUMN = ("", "-")


def _columns_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",")]
    unknown = [n for n in names if n not in schema.CANONICAL_COLUMNS + SKIP_COLUMN]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"--columns: unknown column {unknown[0]!r}; choose from "
            + ", ".join(schema.CANONICAL_COLUMNS)
            + " (or - to skip a column)"
        )
    named = [n for n in names if n not in SKIP_COLUMN]
    twice = sorted({n for n in named if named.count(n) > 1})
    if twice:
        raise argparse.ArgumentTypeError(f"--columns: {twice[0]} is given twice")
    return names


def build_parser() -> argparse.ArgumentParser:
    """Return the command line's argument parser."""
    parser = _Parser(
        prog="python -m segmentation",
        description="Segment the customers of a retail export (CSV or Excel).",
    )
    parser.add_argument("input", nargs="?", help="the export: .csv, .xlsx, .xlsm, .xls")
    parser.add_argument("--sample", action="store_true", help="use the built-in sample")
    parser.add_argument("-k", type=_k, default=settings.DEFAULT_K, help="value tiers")
    parser.add_argument(
        "--method",
        choices=settings.METHODS,
        default=None,
        help="clustering of the value tiers (default kmeans); for hdbscan, k sets "
        "the smallest group (n / 2k customers) and HDBSCAN finds the number of "
        "tiers; naming a method also compares all four and prints the comparison",
    )
    parser.add_argument(
        "--compare-methods",
        action="store_true",
        help="compare the four methods at this k (silhouette, Davies-Bouldin, "
        "Calinski-Harabasz, stability, smallest group, fit time) in the receipt "
        "and the report's method_comparison; on by default when --method is given",
    )
    parser.add_argument("-o", "--output", type=Path, help="labelled customer CSV")
    parser.add_argument("--report", type=Path, help="run report (JSON)")
    parser.add_argument(
        "--html", type=Path, metavar="FILE", help="run report for people (HTML)"
    )
    parser.add_argument(
        "--map",
        type=_mapping_item,
        action="append",
        default=[],
        metavar="canonical=Header",
        help="use this header for a canonical column (repeatable)",
    )
    parser.add_argument(
        "--columns",
        type=_columns_list,
        metavar="NAME,NAME,...",
        help="a file without a header row: the canonical name of each column in "
        "file order, - to skip one (e.g. customer_id,invoice_date,quantity,amount)",
    )
    dates = parser.add_mutually_exclusive_group()
    dates.add_argument(
        "--day-first",
        dest="day_first",
        action="store_const",
        const=True,
        help="read text dates as day/month (03/04 = 3 April)",
    )
    dates.add_argument(
        "--month-first",
        dest="day_first",
        action="store_const",
        const=False,
        help="read text dates as month/day (03/04 = 4 March); "
        "default: decided from the data, and said",
    )
    parser.add_argument(
        "--keep-duplicates",
        action="store_true",
        help="count lines that repeat a whole row of the file as purchases "
        "(default: an exact copy within an invoice is counted once)",
    )
    parser.add_argument(
        "--as-of", type=_date, help="reference date YYYY-MM-DD for recency"
    )
    parser.add_argument("--seed", type=int, default=settings.DEFAULT_SEED)
    parser.add_argument(
        "--anomaly-share",
        type=_share,
        default=settings.DEFAULT_ANOMALY_SHARE,
        help="share of customers flagged as Anomaly "
        f"(default {settings.DEFAULT_ANOMALY_SHARE})",
    )
    _add_lifetime_arguments(parser)
    parser.add_argument(
        "--compare-days",
        type=_days,
        metavar="N",
        help="also place every customer at as_of - N days with the same fitted "
        "tiers and status (columns value_tier_before, status_before; report: "
        "migration, the moves between the two dates)",
    )
    parser.add_argument(
        "--save",
        action="store_true",
        help="save the run in the run database ($DATABASE_URL, else "
        "segmentation.db in $SEGMENTATION_DATA_DIR, default ./data) for the app "
        "and the JSON API; its id is the last line of standard output. Without "
        "--user the run is the local workspace's (python -m app on loopback "
        "without accounts)",
    )
    parser.add_argument(
        "--user",
        type=_user,
        metavar="NAME",
        help="with --save: save the run as this account's (python -m app users "
        "add NAME made it in the same database); only its log-in and API keys "
        "see the run",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="print nothing but errors on standard error (no progress, receipt "
        "or notes)",
    )
    return parser


def _add_lifetime_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the lifetime models (DESIGN section 10)."""
    defaults = LifetimeSettings()
    group = parser.add_argument_group("customers over time (BG/NBD, Gamma-Gamma)")
    group.add_argument(
        "--no-lifetime",
        action="store_true",
        help="do not fit the lifetime models (no p_alive, expected orders, CLV)",
    )
    group.add_argument(
        "--holdout-days",
        type=_days,
        metavar="N",
        help="also fit on the history before as_of - N days and compare "
        "predicted with actual orders in the last N days (report: "
        "lifetime.holdout)",
    )
    group.add_argument(
        "--orders-horizon-days",
        type=_days,
        default=defaults.orders_horizon_days,
        metavar="N",
        help="horizon of expected_orders_<N>d "
        f"(default {defaults.orders_horizon_days})",
    )
    group.add_argument(
        "--clv-horizon-days",
        type=_days,
        default=defaults.clv_horizon_days,
        metavar="N",
        help=f"horizon of clv_<N>d (default {defaults.clv_horizon_days})",
    )


def _lifetime_settings(args: argparse.Namespace) -> LifetimeSettings | None:
    if args.no_lifetime:
        return None
    return LifetimeSettings(
        orders_horizon_days=args.orders_horizon_days,
        clv_horizon_days=args.clv_horizon_days,
        holdout_days=args.holdout_days,
    )


def _progress(started: float, quiet: bool = False):
    def report(step: str, fraction: float) -> None:
        if step.startswith(PARSING_SHEET):
            # A workbook's sheet parses for seconds without the GIL: import the
            # models meanwhile (a CSV parses too fast for this to pay).
            _warm_imports.start()
        if not quiet:
            print(f"[{time.perf_counter() - started:6.2f}s] {step}", file=sys.stderr)

    return report


#: The reader's progress step before a workbook sheet's parse.
PARSING_SHEET = "Parsing sheet"


def _source(args: argparse.Namespace) -> tuple[bytes | Path, str]:
    if args.sample:
        return pipeline.load_sample(), SAMPLE_NAME
    path = Path(args.input)
    if not path.is_file():
        raise SegmentationError(f"{path}: no such file")
    return path, path.name


def _sha256(source: bytes | Path) -> str:
    if isinstance(source, bytes):
        return hashlib.sha256(source).hexdigest()
    with source.open("rb") as reader:
        return hashlib.file_digest(reader, "sha256").hexdigest()


def empty_result_report(args: argparse.Namespace, error: EmptyResultError) -> dict:
    """Return the run report of a run whose cleaning left no line.

    What is known: the input file (name, sha256, the reading notes), the
    mapping (the engine's, else the ``--map`` given), the cleaning receipt
    carried by the error, the settings and the error itself; no customer.
    """
    source, name = _source(args)
    return {
        "input": {
            "file": name,
            "sha256": _sha256(source),
            "notes": list(getattr(error, "notes", None) or []),
        },
        "mapping": getattr(error, "mapping", None) or dict(args.map) or None,
        "cleaning": getattr(error, "report", None),
        "as_of": None,
        "settings": {
            "k": args.k,
            "seed": args.seed,
            "anomaly_share": args.anomaly_share,
        },
        "method": args.method or settings.DEFAULT_METHOD,
        "customers": 0,
        "error": str(error),
    }


def run(args: argparse.Namespace) -> None:
    """Run the recipe for parsed arguments; raise SegmentationError on bad input."""
    progress = _progress(time.perf_counter(), args.quiet)
    source, name = _source(args)
    store = RunStore() if args.save else None
    if args.user is not None:
        _check_account(store, args.user)
    prepared = pipeline.prepare(
        source,
        filename=name,
        mapping=dict(args.map) or None,
        as_of=args.as_of,
        seed=args.seed,
        limits=COMMAND_LINE_LIMITS,
        day_first=args.day_first,
        columns=args.columns,
        drop_duplicates=not args.keep_duplicates,
        progress=progress,
        lifetime=_lifetime_settings(args),
        compare_days=args.compare_days,
    )
    progress(f"Segmenting {len(prepared.features):,} customers, k={args.k}", 0.9)
    result = pipeline.segment(
        prepared,
        args.k,
        seed=args.seed,
        anomaly_share=args.anomaly_share,
        with_stability=True,
        method=args.method or settings.DEFAULT_METHOD,
        # the comparison refits every method several times (seconds on a large
        # file): asked for by naming a method or by --compare-methods
        with_comparison=args.method is not None or args.compare_methods,
    )
    if not args.quiet:
        print("\n".join(method_lines(result)), file=sys.stderr)
    if args.output:
        args.output.write_text(reports.customers_csv(result.customers), "utf-8")
        progress(f"Wrote {len(result.customers):,} customers to {args.output}", 1.0)
    if args.report:
        report = reports.run_report(prepared, result)
        args.report.write_text(json.dumps(report, indent=2, default=str), "utf-8")
        progress(f"Wrote the run report to {args.report}", 1.0)
    if args.html:
        from segmentation.html_report import render_html_report  # Jinja2: on demand

        args.html.write_text(render_html_report(prepared, result), "utf-8")
        progress(f"Wrote the HTML report to {args.html}", 1.0)
    if not args.quiet:
        summary = result.customers.groupby(
            [schema.VALUE_TIER, schema.PURCHASE_STYLE], sort=False
        ).size()
        print(summary.to_string(), file=sys.stderr)
        if prepared.lifetime is not None:
            print("\n".join(lifetime_lines(prepared.lifetime.report)), file=sys.stderr)
        if result.migration is not None:
            print("\n".join(migration_lines(result.migration.report)), file=sys.stderr)
        _speak(prepared.report.to_dict(), prepared.notes)
    if store is not None:
        run_id = store.save(prepared, result, source="cli", owner=args.user)
        whose = f"user {args.user}" if args.user else "the local workspace"
        progress(f"Saved run {run_id} for {whose} in {store.location}", 1.0)
        print(run_id)


def _check_account(store: RunStore, name: str) -> None:
    """Raise unless the run database holds the account ``name``.

    The accounts live in the run database (table ``users``, made by its
    migrations); the engine reads that table only, never the app.

    Raises
    ------
    SegmentationError
        No such account, naming the database and the command that adds it.
    """
    with store.engine.connect() as connection:
        found = connection.execute(
            text("SELECT 1 FROM users WHERE name = :name"), {"name": name}
        ).first()
    if found is None:
        raise SegmentationError(
            f"--user: no account {name!r} in {store.location} (add it with "
            f"python -m app users add {name}, or leave --user out to save the run "
            "in the local workspace); nothing was saved"
        )


def _empty_result(args: argparse.Namespace, error: EmptyResultError) -> str:
    """Say why nothing is left (the receipt; the report when asked for).

    Returns the ``error:`` line's text: the engine's message, and where the
    report went (or why it could not be written).
    """
    report = empty_result_report(args, error)
    message = str(error)
    if args.report:
        try:
            args.report.write_text(json.dumps(report, indent=2, default=str), "utf-8")
            message += f"; the receipt is in {args.report}"
        except OSError as failed:
            message += f"; {args.report} could not be written: {failed.strerror}"
    if not args.quiet and report["cleaning"]:
        _speak(report["cleaning"], report["input"]["notes"])
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if bool(args.input) == bool(args.sample):
        parser.error("give one INPUT file, or --sample")
    if args.user is not None and not args.save:
        parser.error("--user names whose saved run it is: give --save too")
    try:
        run(args)
    except ColumnMappingError as error:
        print(f"error: {mapping_error_message(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except EmptyResultError as error:
        print(f"error: {_empty_result(args, error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SegmentationError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        print(f"error: {error.filename or ''}: {error.strerror}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def entry_point() -> None:
    """Run :func:`main` and exit with its code (the ``segmentation`` command)."""
    exit_code = main()
    # Interpreter shutdown would garbage-collect every object of the ~1,400
    # modules scikit-learn imports, 0.2-0.3 s after the work is done; frozen
    # objects are skipped (the OS frees the memory anyway).
    gc.freeze()
    sys.exit(exit_code)


if __name__ == "__main__":
    entry_point()
