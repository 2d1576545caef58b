"""Cost of the lifetime models (BG/NBD, Gamma-Gamma) on the command line.

Not a test: run it by hand and read the medians.

    .venv/bin/python benchmarks/lifetime.py                      # 3 repeats each
    .venv/bin/python benchmarks/lifetime.py --repeat 5 --file export.csv

Runs ``python -m segmentation FILE`` (default Online Retail I, CSV) with and
without ``--no-lifetime``, alternating so that a busy machine slows both
alike, and prints the median and spread of each and their difference; then
the in-process time of :func:`segmentation.lifetime.fit_lifetime` alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILE = ROOT.parent / "shared" / "data" / "online_retail_I.csv"


def _command(path: Path, *extra: str) -> float:
    with tempfile.TemporaryDirectory() as out:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "segmentation", str(path), "-q",
             "-o", f"{out}/c.csv", "--report", f"{out}/r.json", *extra],
            cwd=ROOT, check=True,
        )  # fmt: skip
        return time.perf_counter() - started


def _in_process(path: Path, repeat: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from segmentation import schema
    from segmentation.cleaning import clean_transactions
    from segmentation.features import reference_date
    from segmentation.io import load_transactions
    from segmentation.lifetime import fit_lifetime

    loaded = load_transactions(path)
    kept, _, _ = clean_transactions(
        loaded.lines,
        row_hash=loaded.row_hash,
        invoice_column=schema.INVOICE_ID in loaded.mapping,
    )
    as_of = reference_date(kept[schema.INVOICE_DATE])
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fit_lifetime(kept, as_of)
        times.append(time.perf_counter() - started)
    return times


def _line(label: str, times: list[float]) -> str:
    return (
        f"{label:<28} median {statistics.median(times):6.2f} s  "
        f"({min(times):.2f}..{max(times):.2f}, n={len(times)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with_lifetime, without = [], []
    for _ in range(args.repeat):
        without.append(_command(args.file, "--no-lifetime"))
        with_lifetime.append(_command(args.file))
    print(_line("command, --no-lifetime", without))
    print(_line("command, lifetime (default)", with_lifetime))
    added = statistics.median(with_lifetime) - statistics.median(without)
    print(f"{'difference of medians':<28} {added:+.2f} s")
    print(_line("fit_lifetime in-process", _in_process(args.file, args.repeat)))


if __name__ == "__main__":
    main()
