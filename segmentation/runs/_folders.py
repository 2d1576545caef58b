"""Import the run folders of earlier versions into the run database, once.

Private to :mod:`segmentation.runs`. Earlier versions saved each run as a
folder ``<data_dir>/runs/<run_id>/`` (``report.json``, ``model.pkl``,
``prepared.pkl``, ``customers.csv``; see :mod:`segmentation.runs._files`).
When a store first opens, every such folder not yet in ``folder_imports`` is
imported under its own id: its report, its models (re-pickled with today's
class paths when readable) and its customers (``customer_segments``). A damaged
folder is imported as a damaged run, with the reason the folder store gave.
The folders are left as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, insert, select

from segmentation.errors import SegmentationError
from segmentation.results import PreparedData, Segmentation
from segmentation.runs import _database
from segmentation.runs._files import (
    DamagedRunError,
    _created_of,
    _report,
)
from segmentation.runs._ids import (
    MODEL_FILE,
    PREPARED_FILE,
    REPORT_FILE,
    RUN_ID_PATTERN,
)
from segmentation.runs._rows import customer_rows
from segmentation.runs.tables import CustomerSegment, FolderImport, Run, RunModel

#: ``folder_imports.result``.
IMPORTED, IMPORTED_DAMAGED, ALREADY_THERE = "imported", "imported as damaged", "kept"


@dataclass
class FolderRun:
    """What one run folder holds, read and checked."""

    run_id: str
    created: datetime
    report: dict
    damaged: str | None = None
    models: dict[str, bytes] = field(default_factory=dict)
    segmentation: Segmentation | None = None


def read_folder(folder: Path) -> FolderRun:
    """Read a run folder as the folder store did; damage goes in ``damaged``."""
    from segmentation.runs import _store  # the store's encoding (no cycle at import)

    run = FolderRun(
        run_id=folder.name,
        created=datetime.fromisoformat(_created_of(folder)),
        report={},
    )
    try:
        run.report = _report(folder)
    except FileNotFoundError:
        run.damaged = f"{REPORT_FILE} is missing"
    except DamagedRunError as err:
        run.damaged = err.details["reason"]
        try:
            raw = json.loads((folder / REPORT_FILE).read_text("utf-8"))
            run.report = raw if isinstance(raw, dict) else {}
        except (OSError, ValueError):
            run.report = {}
    for part, name, kind in (
        (_store.MODEL_PART, MODEL_FILE, Segmentation),
        (_store.PREPARED_PART, PREPARED_FILE, PreparedData),
    ):
        try:
            data = (folder / name).read_bytes()
        except FileNotFoundError:
            if part == _store.MODEL_PART and run.damaged is None:
                run.damaged = f"{MODEL_FILE} is missing"
            continue
        except OSError as err:
            run.damaged = run.damaged or f"{name} cannot be read ({err})"
            continue
        try:
            value = _store.decode(data, name)
        except SegmentationError as err:
            run.models[part] = data  # kept as it was; loading says why it fails
            if part == _store.MODEL_PART and run.damaged is None:
                run.damaged = err.details["reason"]
            continue
        if not isinstance(value, kind):
            run.models[part] = data
            if part == _store.MODEL_PART and run.damaged is None:
                run.damaged = f"{MODEL_FILE} does not hold a segmentation"
            continue
        run.models[part] = _store.encode(value)
        if part == _store.MODEL_PART:
            run.segmentation = value
    if run.damaged is None:
        run.created = datetime.fromisoformat(run.report["created"])
    if run.created.tzinfo is None:
        run.created = run.created.replace(tzinfo=UTC)
    return run


def _insert(connection, run: FolderRun) -> str:
    """Insert a read folder as a run; return the ``folder_imports.result``."""
    from segmentation.runs import _store

    if run.damaged is None:
        values = _store.run_values(
            run.run_id,
            {"id": run.run_id, **run.report},
            run.created,
            method=getattr(run.segmentation, "method", None),
        )
    else:
        values = {
            "run_id": run.run_id,
            "created_at": run.created,
            "report": _store.json_ready(run.report),
            "status": _store.DAMAGED,
            "damaged_reason": run.damaged,
        }
    connection.execute(insert(Run), [values])
    if run.models:
        connection.execute(
            insert(RunModel),
            [
                {"run_id": run.run_id, "part": p, "format": _store.PICKLE, "data": d}
                for p, d in run.models.items()
            ],
        )
    if run.damaged is None and run.segmentation is not None:
        rows = customer_rows(run.run_id, run.segmentation.customers)
        if rows:
            connection.execute(insert(CustomerSegment), rows)
        return IMPORTED
    return f"{IMPORTED_DAMAGED}: {run.damaged}"


def import_folders(engine: Engine, runs_dir: Path) -> dict[str, str]:
    """Import every run folder of ``runs_dir`` not imported yet.

    Each folder is read outside the write lock, then inserted with its
    ``folder_imports`` row in one transaction, so two processes starting at
    once import it once. A folder whose id is already a run is recorded and
    left (``kept``).

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The run database, migrated.
    runs_dir : pathlib.Path
        ``<data_dir>/runs``; nothing happens when it does not exist.

    Returns
    -------
    dict of str to str
        Run id -> ``folder_imports.result`` of the folders imported now.
    """
    if not runs_dir.is_dir():
        return {}
    names = sorted(
        p.name
        for p in runs_dir.iterdir()
        if RUN_ID_PATTERN.fullmatch(p.name) and p.is_dir()
    )
    if not names:
        return {}
    with engine.connect() as connection:
        done = set(
            connection.execute(
                select(FolderImport.run_id).where(FolderImport.run_id.in_(names))
            ).scalars()
        )
    results = {}
    for name in names:
        if name in done:
            continue
        run = read_folder(runs_dir / name)
        with _database.write_transaction(engine) as connection:
            if connection.execute(
                select(FolderImport.run_id).where(FolderImport.run_id == name)
            ).first():
                continue
            exists = connection.execute(
                select(Run.run_id).where(Run.run_id == name)
            ).first()
            result = ALREADY_THERE if exists else _insert(connection, run)
            connection.execute(
                insert(FolderImport),
                [
                    {
                        "run_id": name,
                        "imported_at": datetime.now(UTC),
                        "result": result,
                    }
                ],
            )
        results[name] = result
    return results
