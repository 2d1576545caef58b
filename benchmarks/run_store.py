"""Time the run store: save, list, load, load_prepared and summary of one run.

Usage (from the project root)::

    PYTHONPATH=. .venv/bin/python benchmarks/run_store.py [FILE] [--repeats N]

FILE defaults to ../shared/data/online_retail_I.csv (4,372 customers kept of
541,909 lines, k = 4). Each step runs N times (default 5) in this process and
the median is printed, in milliseconds, for: the database store on SQLite (a
file in a temporary folder); on PostgreSQL when ``SEGMENTATION_TEST_POSTGRES_URL``
is set (a schema of its own, dropped after); and the folder layout of earlier
versions (``segmentation.runs._files``, what the store did before) for
comparison. ``load`` is timed on a new RunStore each time (nothing in memory).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

import segmentation
from segmentation import reports
from segmentation.runs import RunStore, _database
from segmentation.runs import _files as folder_files

DEFAULT_FILE = Path(__file__).resolve().parents[2] / "shared/data/online_retail_I.csv"


def _median_ms(step, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _database_store(name: str, root: Path, url: str, prepared, seg, repeats: int):
    store = RunStore(root, max_runs=1000, database_url=url)
    store.list()  # open and migrate first, as a running app has
    ids = []
    save = _median_ms(lambda: ids.append(store.save(prepared, seg)), repeats)
    run_id = ids[-1]
    rows = {
        "save": save,
        "list": _median_ms(lambda: store.list(), repeats),
        "load (new store)": _median_ms(
            lambda: RunStore(root, database_url=url).load(run_id), repeats
        ),
        "load_prepared": _median_ms(lambda: store.load_prepared(run_id), repeats),
        "summary (loaded)": _median_ms(lambda: store.summary(run_id), repeats),
    }
    for step, ms in rows.items():
        print(f"{name:<12} {step:<18} {ms:9.1f} ms")


def _folder_store(root: Path, prepared, seg, repeats: int):
    runs_dir = root / "runs"
    runs_dir.mkdir(parents=True)
    ids = []

    def save():
        created = datetime.now(UTC)
        base = f"{created:%Y%m%dT%H%M%S}-{prepared.sha256[:8]}-k{seg.k}"
        temp = folder_files.new_temp_folder(runs_dir)
        metadata = {
            "created": created.isoformat(timespec="microseconds"),
            "source": "cli",
            **reports.run_report(prepared, seg),
        }
        folder_files.write_run_files(temp, prepared, seg)
        ids.append(folder_files.move_into_place(runs_dir, temp, base, metadata))

    rows = {
        "save": _median_ms(save, repeats),
        "load (new store)": _median_ms(
            lambda: folder_files.read_run(runs_dir / ids[-1], ids[-1]), repeats
        ),
        "load_prepared": _median_ms(
            lambda: folder_files.read_prepared(runs_dir / ids[-1], ids[-1]), repeats
        ),
    }
    for step, ms in rows.items():
        print(f"{'folders':<12} {step:<18} {ms:9.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    prepared = segmentation.prepare(args.file)
    seg = segmentation.segment(prepared, 4)
    print(
        f"{args.file.name}: {len(seg.customers):,} customers, k = 4, "
        f"median of {args.repeats}"
    )
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        sqlite_url = f"sqlite:///{root / 'db' / 'segmentation.db'}"
        _database_store("sqlite", root / "db", sqlite_url, prepared, seg, args.repeats)
        db_file = root / "db" / "segmentation.db"
        print(
            f"{'sqlite':<12} {'file size':<18} {db_file.stat().st_size / 1e6:9.1f} MB"
            f" ({args.repeats} runs)"
        )
        postgres = os.environ.get("SEGMENTATION_TEST_POSTGRES_URL")
        if postgres:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(_database.database_url(root, postgres))
            with admin.begin() as connection:
                connection.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = _database.database_url(root, postgres)
                url += (
                    "&" if "?" in url else "?"
                ) + f"options=-csearch_path%3D{schema}"
                _database_store(
                    "postgresql", root / "pg", url, prepared, seg, args.repeats
                )
            finally:
                for key in [k for k in _database._ENGINES if k[0] == url]:
                    _database._ENGINES.pop(key).dispose()
                with admin.begin() as connection:
                    connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        _folder_store(root / "folders", prepared, seg, args.repeats)
        shutil.rmtree(root / "folders", ignore_errors=True)


if __name__ == "__main__":
    main()
