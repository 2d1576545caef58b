"""Background jobs that do not load a dataset give the cores to the first panels.

The loading job (its outputs include the dataset store) runs at the server's
priority; the every-k warm-up, the method comparison and customers over time
run :data:`app.jobs.BACKGROUND_NICENESS` lower, so that right after a file is
loaded the web process draws the grid, scatter, heatmap and cards first.
"""

from __future__ import annotations

import time

import diskcache
import psutil
import pytest

from app import jobs
from app.jobs import JobManager


def _outputs_list(callback_key: str) -> list[dict] | dict:
    """The ``outputs`` a page sends for a callback of ``app.callback_map``.

    Keys are ``"id.prop"`` for one output and ``"..a.x...b.y.."`` for several
    (Dash's own format); the page sends one ``{"id", "property"}`` or a list.
    """
    parts = (
        callback_key.strip(".").split("...") if callback_key.startswith("..") else None
    )
    specs = [
        {"id": part.rsplit(".", 1)[0], "property": part.rsplit(".", 1)[1]}
        for part in (parts or [callback_key])
    ]
    return specs if parts else specs[0]


@pytest.fixture(scope="module")
def background_callbacks(tmp_path_factory):
    from app import create_app

    app = create_app(tmp_path_factory.mktemp("jobs-app"), first_screen=False)
    return [key for key, spec in app.callback_map.items() if spec.get("background")]


def test_only_the_loading_job_keeps_the_server_s_priority(background_callbacks):
    yields = {
        key.split("@")[0]: jobs.yields_to_the_panels(
            {"outputs_list": _outputs_list(key)}
        )
        for key in background_callbacks
    }
    loading = [key for key, y in yields.items() if not y]
    assert len(loading) == 1 and loading[0].startswith("..dataset-store.data...")
    assert yields["..warm-store.data...k-views.data.."] is True  # the every-k warm-up
    assert yields["overtime-store.data"] is True
    assert any(key.startswith("..method-comparison.children") for key in yields)
    assert all(y for key, y in yields.items() if "method-comparison" in key)


@pytest.mark.parametrize(
    "outputs, ids",
    [
        ({"id": "warm-store", "property": "data"}, {"warm-store"}),
        (
            [{"id": "dataset-store", "property": "data"}, {"id": "x", "property": "y"}],
            {"dataset-store", "x"},
        ),
        # pattern-matching outputs: a list per output, ids are dicts
        (
            [[{"id": {"type": "card", "index": 1}, "property": "n"}], []],
            {"card"},
        ),
        (None, set()),
    ],
)
def test_output_ids_reads_every_shape_of_outputs_list(outputs, ids):
    assert jobs.output_ids({"outputs_list": outputs}) == ids


def _sleep(key, progress_key, args, context):  # a job as Dash's job_fn is called
    time.sleep(30)


@pytest.fixture
def manager(tmp_path):
    cache = diskcache.Cache(str(tmp_path / "jobs"))
    yield JobManager(cache, tmp_path)
    cache.close()


@pytest.mark.parametrize(
    "output, lowered",
    [("warm-store", True), ("overtime-store", True), ("dataset-store", False)],
)
def test_a_started_job_runs_lower_unless_it_loads_a_dataset(manager, output, lowered):
    context = {"outputs_list": [{"id": output, "property": "data"}]}
    own = psutil.Process().nice()
    pid = manager.call_job_fn("k" * 64, _sleep, (), context)
    try:
        expected = min(19, own + jobs.BACKGROUND_NICENESS) if lowered else own
        assert psutil.Process(pid).nice() == expected
    finally:
        manager.terminate_job(str(pid))
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == "zombie"
