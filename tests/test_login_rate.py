"""Log-in attempts are limited per user name and per client address.

Five failures within a minute, then 429 with ``Retry-After`` and the wait in
words on the log-in page, without the password being checked; the window is
read from a clock the tests move.
"""

from __future__ import annotations

import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import auth, create_app
from app.accounts import Accounts
from app.auth import FailureLimiter

PASSWORD = "carol's long password"


class Clock:
    """Seconds that only move when told (for the limiter)."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served(tmp_path):
    os.environ.pop("SEGMENTATION_REQUIRE_LOGIN", None)
    os.environ.pop("SEGMENTATION_ALLOW_ANONYMOUS", None)
    accounts = Accounts(directory=tmp_path)
    accounts.add_user("carol", PASSWORD)
    accounts.add_user("dave", "dave's long password")
    app = create_app(tmp_path, first_screen=False)
    clock = Clock()
    limiter = app.server.extensions["segmentation_auth"].logins
    limiter.clock = clock
    return app, clock


def attempt(client, name, password, address="10.0.0.1"):
    return client.post(
        "/login",
        data={"name": name, "password": password, "next": "/"},
        environ_base={"REMOTE_ADDR": address},
    )


def test_the_sixth_failed_log_in_answers_429_with_retry_after(served):
    app, clock = served
    client = app.server.test_client()
    for _ in range(5):
        assert attempt(client, "carol", "wrong password 1").status_code == 401
        clock.now += 1
    answer = attempt(client, "carol", "wrong password 1")
    assert answer.status_code == 429
    # the first failure was at 1000 s, now is 1005 s: free at 1060 s
    assert answer.headers["Retry-After"] == "55"
    page = answer.get_data(as_text=True)
    assert "Too many failed log-ins" in page
    assert "Try again in 55 seconds." in page
    assert re.search(r'role="alert"', page)


def test_the_right_password_waits_too_while_blocked(served):
    """Otherwise the limit would tell a guesser when a password is right."""
    app, clock = served
    client = app.server.test_client()
    for _ in range(5):
        attempt(client, "carol", "wrong password 1")
    answer = attempt(client, "carol", PASSWORD)
    assert answer.status_code == 429
    assert client.get_cookie("session") is None
    clock.now += 60  # the window has passed
    assert attempt(client, "carol", PASSWORD).status_code == 303


def test_the_limit_is_per_name_from_any_address(served):
    app, _clock = served
    client = app.server.test_client()
    for n in range(5):
        attempt(client, "carol", "wrong password 1", address=f"10.0.1.{n}")
    assert attempt(client, "carol", PASSWORD, address="10.0.2.1").status_code == 429
    # another user from another address is not held back
    answer = attempt(client, "dave", "dave's long password", address="10.0.2.2")
    assert answer.status_code == 303


def test_the_limit_is_per_address_for_any_name(served):
    """Spraying one password over many names from one address stops at five."""
    app, _clock = served
    client = app.server.test_client()
    for name in ("ann", "ben", "cat", "dan", "eve"):
        assert attempt(client, name, "Summer2026!", "10.0.3.1").status_code == 401
    answer = attempt(client, "dave", "dave's long password", "10.0.3.1")
    assert answer.status_code == 429
    assert (
        attempt(client, "dave", "dave's long password", "10.0.3.2").status_code == 303
    )


def test_a_success_clears_the_names_count(served):
    app, _clock = served
    client = app.server.test_client()
    for n in range(4):
        attempt(client, "carol", "wrong password 1", address=f"10.0.4.{n}")
    assert attempt(client, "carol", PASSWORD, "10.0.5.1").status_code == 303
    for n in range(4):
        attempt(client, "carol", "wrong password 1", address=f"10.0.6.{n}")
    assert attempt(client, "carol", PASSWORD, "10.0.7.1").status_code == 303


@pytest.mark.parametrize(
    ("failures_at", "now", "wait"),
    [
        ([0, 1, 2, 3, 4], 4, 56),  # five in the window: wait for the first to leave
        ([0, 1, 2, 3], 4, 0),  # four: not held back
        ([0, 1, 2, 3, 4], 60, 0),  # the first left the window at 60 s
        ([0, 1, 2, 3, 4], 59.5, 0.5),
    ],
)
def test_the_window_by_hand(failures_at, now, wait):
    clock = Clock()
    limiter = FailureLimiter(auth.LOGIN_FAILURES, auth.LOGIN_WINDOW_SECONDS, clock)
    for moment in failures_at:
        clock.now = moment
        limiter.fail("name:carol")
    clock.now = now
    assert limiter.wait("name:carol") == pytest.approx(wait)
    assert limiter.wait("name:dave") == 0


def test_log_ins_sent_together_get_five_tries_in_all(served):
    """Twelve wrong passwords at once: five are checked (401), seven wait (429).

    Each attempt is counted when it is checked; counted only after its password
    was found wrong, all twelve passed the check before the first was counted.
    """
    app, _clock = served
    tries = 12
    barrier = threading.Barrier(tries)

    def one(n: int) -> int:
        client = app.server.test_client()
        barrier.wait()
        return attempt(
            client, "carol", f"wrong password {n}", f"10.0.8.{n}"
        ).status_code

    with ThreadPoolExecutor(tries) as pool:
        statuses = sorted(pool.map(one, range(tries)))
    assert statuses == [401] * 5 + [429] * 7


def test_a_success_is_not_counted_against_its_address(served):
    app, _clock = served
    client = app.server.test_client()
    for name in ("ann", "ben", "cat", "dan"):
        assert attempt(client, name, "Summer2026!", "10.0.9.1").status_code == 401
    answer = attempt(client, "dave", "dave's long password", "10.0.9.1")
    assert answer.status_code == 303  # counted while checked, then taken back
    assert attempt(client, "eve", "Summer2026!", "10.0.9.1").status_code == 401
    assert attempt(client, "fay", "Summer2026!", "10.0.9.1").status_code == 429
