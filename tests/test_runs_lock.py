"""Saving the same run twice at once gives one run, across processes too."""

from __future__ import annotations

import multiprocessing

import segmentation
from segmentation.runs import RunStore
from tests.test_runs import tiny_prepared


def _save_once(root: str, barrier, results) -> None:
    prepared = tiny_prepared()
    seg = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)
    barrier.wait()  # both processes reach the lock together
    results.put(RunStore(root).save_once(prepared, seg, source="app"))


def test_two_processes_saving_the_same_run_get_one(tmp_path):
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [
        context.Process(target=_save_once, args=(str(tmp_path), barrier, results))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    answers = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    (first, created_first), (second, created_second) = answers
    assert first == second
    assert sorted([created_first, created_second]) == [False, True]
    assert [entry["id"] for entry in RunStore(tmp_path).list()] == [first]


def test_save_always_makes_a_new_run(tmp_path):
    prepared = tiny_prepared()
    seg = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)
    store = RunStore(tmp_path)
    ids = {store.save(prepared, seg) for _ in range(2)}
    assert len(ids) == 2
    assert store.save_once(prepared, seg) == (store.latest_id(), False)
