"""Pickles of runs and results, readable across renames of the engine's modules.

Saved runs (``model.pkl``, ``prepared.pkl``) and the app's server-side store
pickle the result types by their module path. When a class moves, older pickles
name the old path; :data:`RENAMED` maps each old ``(module, name)`` to today's,
and :func:`load` reads through it, so a run saved by an older layout still opens.
"""

from __future__ import annotations

import pickle
from typing import IO

#: ``(old module, name) -> (module, name)``: every class a pickle may name by a
#: path the engine no longer has. Add a row when a pickled class moves.
RENAMED: dict[tuple[str, str], tuple[str, str]] = {
    ("segmentation.pipeline", "PreparedData"): ("segmentation.results", "PreparedData"),
    ("segmentation.pipeline", "Segmentation"): ("segmentation.results", "Segmentation"),
    ("segmentation.value_tiers", "ValueTiers"): (
        "segmentation.models._value_tiers",
        "ValueTiers",
    ),
    ("segmentation.purchase_style", "PurchaseStyle"): (
        "segmentation.models._purchase_style",
        "PurchaseStyle",
    ),
    ("segmentation.diagnostics", "KDiagnostics"): (
        "segmentation.models._diagnostics",
        "KDiagnostics",
    ),
    ("segmentation.cleaning_report", "CleaningReport"): (
        "segmentation.cleaning._report",
        "CleaningReport",
    ),
    ("segmentation.cleaning_report", "LineReason"): (
        "segmentation.cleaning._report",
        "LineReason",
    ),
}


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        module, name = RENAMED.get((module, name), (module, name))
        return super().find_class(module, name)


def load(handle: IO[bytes]) -> object:
    """Unpickle one object from a binary file, reading old class paths too.

    Parameters
    ----------
    handle : binary file
        Open for reading, at the start of a pickle.

    Returns
    -------
    object
        The unpickled object.

    Raises
    ------
    pickle.UnpicklingError, EOFError, ImportError, AttributeError
        As :func:`pickle.load` does for bad bytes or an unknown class.
    """
    return _Unpickler(handle).load()
