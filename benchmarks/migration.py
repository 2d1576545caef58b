"""Cost of the migration (``--compare-days N``) on Online Retail I.

Not a test: run it by hand and read the medians.

    .venv/bin/python benchmarks/migration.py                     # N = 90, 3 repeats
    .venv/bin/python benchmarks/migration.py --days 30 --repeat 5 --file export.csv

In-process, on lines read and cleaned once: the two parts of the migration
step, each timed ``--repeat`` times (median and spread):

* :func:`segmentation.migration.earlier_features` - the customer features at
  ``as_of - N days`` (what ``prepare(..., compare_days=N)`` adds);
* :func:`segmentation.migration.migrate` - the fitted k=3 tiers and status
  applied there, the moves counted and the columns added (what ``segment``
  adds when the prepared data has them).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "online_retail_I.csv"


def _line(label: str, times: list[float]) -> str:
    return (
        f"{label:<34} median {statistics.median(times) * 1000:7.1f} ms  "
        f"({min(times) * 1000:.1f}..{max(times) * 1000:.1f}, n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from segmentation import pipeline, schema
    from segmentation.cleaning import clean_transactions
    from segmentation.io import load_transactions
    from segmentation.migration import earlier_features, migrate, with_migration

    loaded = load_transactions(args.file)
    kept, returns, _ = clean_transactions(
        loaded.lines,
        row_hash=loaded.row_hash,
        invoice_column=schema.INVOICE_ID in loaded.mapping,
    )
    prepared = pipeline.prepare(args.file, diagnostics=False)
    result = pipeline.segment(prepared, 3)
    features_times, migrate_times = [], []
    for _ in range(args.repeat):
        started = time.perf_counter()
        earlier = earlier_features(kept, returns, prepared.as_of, args.days)
        features_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        moved = migrate(
            result.customers,
            earlier,
            result.value_model,
            result.status_model,
            as_of=prepared.as_of,
        )
        with_migration(result.customers, moved)
        migrate_times.append(time.perf_counter() - started)
    total = [a + b for a, b in zip(features_times, migrate_times, strict=True)]
    print(
        f"{args.file.name}: {len(kept):,} kept lines, {len(result.customers):,} "
        f"customers, {len(earlier.features):,} of them {args.days} days earlier"
    )
    print(_line("earlier_features", features_times))
    print(_line("migrate + columns", migrate_times))
    print(_line("migration step (both)", total))


if __name__ == "__main__":
    main()
