"""Background jobs: the process they run in, and what it imports once.

Dash runs each background callback (parsing, cleaning, the k sweep) in a
process of its own through ``dash.DiskcacheManager`` (DESIGN section 2). This
module sets up where those processes come from.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path

#: The engine's model modules (scikit-learn, ~1.3 s to import). The engine imports
#: them on first use; the server imports them at start so that the first k change
#: or API call does not wait for them.
MODEL_MODULES = ("segmentation.models", "segmentation.labelling", "kneed")

#: Modules the job server imports once, so that each job starts in milliseconds.
JOB_PRELOAD = ["app.callbacks", "segmentation.pipeline", *MODEL_MODULES]


def import_models() -> None:
    """Import :data:`MODEL_MODULES` now, in this process.

    Raises
    ------
    ImportError
        A module cannot be imported.
    """
    for name in MODEL_MODULES:
        importlib.import_module(name)


def start_jobs_from_a_clean_process(directory: Path) -> None:
    """Make background jobs fork from a single-threaded server, not from gunicorn.

    Dash starts each background job with ``multiprocess.Process``, which forks
    the web worker by default. The worker runs callbacks in several threads that
    use pyarrow (pandas' string dtype); a fork taken while one of them holds an
    arrow lock leaves the job waiting for that lock forever (seen: a job stuck in
    ``ArrowStringArray._from_sequence``). The "forkserver" method forks jobs from
    a helper process that never ran a callback. Jobs find the data directory
    through the environment, which the helper inherits.

    Parameters
    ----------
    directory : pathlib.Path
        The server-side data directory (exported as ``SEGMENTATION_DATA_DIR``).
    """
    import multiprocess

    from app import storage

    os.environ[storage.ENV_DATA_DIR] = str(directory)
    multiprocess.set_forkserver_preload(JOB_PRELOAD)
    multiprocess.set_start_method("forkserver", force=True)
