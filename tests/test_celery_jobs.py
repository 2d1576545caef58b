"""Dash's CeleryManager as the app uses it (:class:`app.jobs.CeleryJobManager`).

No Redis here: a Celery app on an in-memory broker and result cache; the task's
state is set by hand to replay the order of events that lost results.
"""

from __future__ import annotations

import json

import dash
import pytest
from celery import Celery

from app.jobs import CeleryJobManager


@pytest.fixture
def manager():
    return CeleryJobManager(Celery("t", broker="memory://", backend="cache+memory://"))


def test_a_task_that_ends_between_the_two_questions_is_polled_again(
    manager, monkeypatch
):
    # the task is running when its state is read, writes its result and ends
    # before Dash asks "is it still running?"
    states = iter([True, False])
    monkeypatch.setattr(
        dash.CeleryManager, "job_running", lambda self, job: next(states)
    )
    assert manager.get_result("result-key", "task-1") is manager.UNDEFINED
    assert manager.job_running("task-1") is True  # polled again, not cancelled

    manager.handle.backend.set("result-key", json.dumps({"answer": 42}))
    monkeypatch.setattr(dash.CeleryManager, "terminate_job", lambda self, job: None)
    assert manager.get_result("result-key", "task-1") == {"answer": 42}
    assert manager.job_running("task-1") is False


def test_a_task_seen_ended_without_a_result_is_not_running(manager, monkeypatch):
    monkeypatch.setattr(dash.CeleryManager, "job_running", lambda self, job: False)
    assert manager.get_result("no-result", "task-2") is manager.UNDEFINED
    assert manager.job_running("task-2") is False


def test_without_a_poll_the_task_state_answers(manager, monkeypatch):
    monkeypatch.setattr(dash.CeleryManager, "job_running", lambda self, job: True)
    assert manager.job_running("task-3") is True
