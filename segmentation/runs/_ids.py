"""Saved runs' names: where they live, valid ids, file names, retention setting.

Private to :mod:`segmentation.runs`, which exports the public names here.
"""

from __future__ import annotations

import os
import re
import sysconfig
from pathlib import Path

from segmentation.errors import RunNotFoundError, SegmentationError
from segmentation.settings import DEFAULT_MAX_RUNS

ENV_DATA_DIR = "SEGMENTATION_DATA_DIR"
ENV_MAX_RUNS = "SEGMENTATION_MAX_RUNS"
#: Who saved a run.
SOURCES: tuple[str, ...] = ("cli", "app")
#: A run id: letters, digits, ``_`` and ``-`` only, so it can never leave the folder.
RUN_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]+$")
REPORT_FILE, CUSTOMERS_FILE, MODEL_FILE = "report.json", "customers.csv", "model.pkl"
PREPARED_FILE = "prepared.pkl"

#: Where runs (and the app's store) live when ``SEGMENTATION_DATA_DIR`` is unset:
#: ``data/`` at the project root (git-ignored), whatever the working directory,
#: so that ``python -m segmentation ... --save`` and the app see the same runs.
#: An installed package (no project root beside it) uses ``data/`` under the
#: working directory.
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_INSTALLED = any(
    _PROJECT_ROOT == Path(sysconfig.get_path(scheme)).resolve()
    for scheme in ("purelib", "platlib")
)
DEFAULT_DATA_DIR = (Path.cwd() if _INSTALLED else _PROJECT_ROOT) / "data"


def data_dir() -> Path:
    """Return ``$SEGMENTATION_DATA_DIR``, else :data:`DEFAULT_DATA_DIR`.

    Returns
    -------
    pathlib.Path
        Not created here.
    """
    return Path(os.environ.get(ENV_DATA_DIR) or DEFAULT_DATA_DIR)


def check_run_id(run_id: object) -> str:
    """Return ``run_id`` if it is a valid run id, else raise RunNotFoundError.

    Raises
    ------
    RunNotFoundError
        For anything but a non-empty string of ``[0-9A-Za-z_-]`` (e.g. ``../x``).
    """
    if not isinstance(run_id, str) or not RUN_ID_PATTERN.fullmatch(run_id):
        raise RunNotFoundError(f"{run_id!r} is not a valid run id", run_id=run_id)
    return run_id


def parse_max_runs(value: int | None) -> int:
    """Return the number of runs to keep: ``value``, else ``$SEGMENTATION_MAX_RUNS``.

    Parameters
    ----------
    value : int or None
        None reads the environment variable (default :data:`DEFAULT_MAX_RUNS`).

    Raises
    ------
    SegmentationError
        For a value (or environment value) that is not a whole number >= 1.
    """
    if value is None:
        text = os.environ.get(ENV_MAX_RUNS, str(DEFAULT_MAX_RUNS))
        try:
            value = int(text)
        except ValueError:
            raise SegmentationError(
                f"{ENV_MAX_RUNS} must be a whole number, got {text!r}"
            ) from None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SegmentationError(f"max_runs must be a whole number >= 1, got {value!r}")
    return value
