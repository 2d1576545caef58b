"""Import the modelling libraries in a background thread while a file is read.

Importing scikit-learn (with scipy.stats) and kneed takes about 1.3 s, more than
half of parsing Online Retail I's workbook. The workbook reader (fastexcel)
releases the GIL while it parses a sheet, so a thread that imports the models
meanwhile takes that time off a command-line run (about 1 s, measured by
``benchmarks/run.py``). Only the command line (:mod:`segmentation.__main__`)
starts it, for a workbook; a CSV parses too fast for this to pay. The app
imports the models at start-up, so nothing is started there.

The thread only warms ``sys.modules``: if an import fails there, the error is
dropped and the caller's own import raises it as usual.
"""

from __future__ import annotations

import importlib
import sys
import threading

#: What :func:`segmentation.pipeline.prepare` and ``segment`` import after the read.
MODEL_MODULES = (
    "segmentation.models",
    "segmentation.labelling",
    "kneed",
)


def _import_all(names: tuple[str, ...]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the caller's own import raises it again
            return


def start(names: tuple[str, ...] = MODEL_MODULES) -> threading.Thread | None:
    """Start importing ``names`` in a thread, unless all are already imported.

    Parameters
    ----------
    names : tuple of str
        Module names, imported in this order.

    Returns
    -------
    threading.Thread or None
        The started thread, or None when every module was already imported.
    """
    missing = tuple(name for name in names if name not in sys.modules)
    if not missing:
        return None
    # Not a daemon: an interpreter that exits while a C extension is half
    # imported can crash, so exit waits for the imports (at most ~1.5 s).
    thread = threading.Thread(
        target=_import_all, args=(missing,), name="segmentation-imports"
    )
    thread.start()
    return thread
