"""Share links: a run shared read-only by a link its owner makes and revokes.

Through the API (alice's and bob's keys) and the app's "Share link" and
"Revoke links" buttons (callbacks called as functions in a request of the
user), on the app ``create_app`` builds; the run database's ``run_shares``
table is read directly to check that no token is stored in clear.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re

import flask
import pytest
import sqlalchemy as sa

import segmentation
from app import create_app, storage
from app.accounts import Accounts
from app.callbacks import runs as run_callbacks
from segmentation.errors import RunNotFoundError
from segmentation.runs import RunStore, ShareNotFoundError, ShareRevokedError
from tests.test_runs import tiny_prepared

ALICE_PASSWORD = "alice's long password"
BOB_PASSWORD = "bob's long password"


class Served:
    """alice's run and bob's run, their keys, and the app."""

    def __init__(self, folder):
        self.folder = folder
        accounts = Accounts(directory=folder)
        accounts.add_user("alice", ALICE_PASSWORD)
        accounts.add_user("bob", BOB_PASSWORD)
        self.alice_key = accounts.create_key("alice")[1]
        self.bob_key = accounts.create_key("bob")[1]
        self.store = RunStore(folder)
        prepared = tiny_prepared()
        self.seg = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)
        self.alice_run = self.store.save(
            prepared, self.seg, source="app", owner="alice"
        )
        self.bob_run = self.store.save(
            tiny_prepared(sha256="ee" * 32), self.seg, source="app", owner="bob"
        )
        self.app = create_app(folder, first_screen=False)

    def api(self, key):
        client = self.app.server.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        return client

    def browser(self, name, password):
        client = self.app.server.test_client()
        assert (
            client.post("/login", data={"name": name, "password": password}).status_code
            == 303
        )
        return client


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    os.environ.pop("SEGMENTATION_REQUIRE_LOGIN", None)
    os.environ.pop("SEGMENTATION_ALLOW_ANONYMOUS", None)
    return Served(tmp_path_factory.mktemp("shares"))


def test_the_owner_shares_and_a_colleague_opens_it_read_only(served):
    made = served.api(served.alice_key).post(f"/api/runs/{served.alice_run}/share")
    assert made.status_code == 201
    token = made.json["token"]
    assert made.json["run_id"] == served.alice_run
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert made.json["url"] == f"http://localhost/shared/{token}"
    bob = served.browser("bob", BOB_PASSWORD)
    page = bob.get(f"/shared/{token}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"Shared run <code>{served.alice_run}</code>, read-only." in text
    assert "tiny.csv" in text
    assert page.headers["Cache-Control"] == "no-store"
    # the customers: one row per customer of the run (12, tiny_prepared)
    sheet = bob.get(f"/shared/{token}/customers.csv")
    assert sheet.status_code == 200
    rows = list(csv.DictReader(io.StringIO(sheet.get_data(as_text=True))))
    assert len(rows) == len(served.seg.customers) == 12
    # read-only: the link gives bob no right on the run through the API
    bob_api = served.api(served.bob_key)
    assert bob_api.get(f"/api/runs/{served.alice_run}").status_code == 404
    assert bob_api.post(f"/api/runs/{served.alice_run}/share").status_code == 404
    assert bob_api.delete(f"/api/runs/{served.alice_run}/share").status_code == 404
    assert bob.get(f"/shared/{token}").status_code == 200  # still open


def test_only_the_tokens_sha256_is_stored(served):
    token = served.store.share(served.alice_run, by="alice")
    engine = sa.create_engine(f"sqlite:///{served.folder / 'segmentation.db'}")
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT token_sha256, created_by FROM run_shares")
        ).all()
    stored = {row.token_sha256 for row in rows}
    assert hashlib.sha256(token.encode()).hexdigest() in stored
    assert token not in stored
    assert all(len(s) == 64 for s in stored)


def test_a_link_needs_a_log_in_where_accounts_exist(served):
    token = served.store.share(served.alice_run, by="alice")
    stranger = served.app.server.test_client()
    answer = stranger.get(f"/shared/{token}")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/login?next=")
    assert stranger.get(f"/shared/{token}/customers.csv").status_code == 303


def test_a_revoked_link_answers_410_and_an_unknown_one_404(served):
    alice = served.api(served.alice_key)
    first = alice.post(f"/api/runs/{served.alice_run}/share").json["token"]
    second = alice.post(f"/api/runs/{served.alice_run}/share").json["token"]
    assert first != second
    revoked = alice.delete(f"/api/runs/{served.alice_run}/share")
    assert revoked.status_code == 200
    assert revoked.json["run_id"] == served.alice_run
    assert revoked.json["revoked"] >= 2  # every open link of the run
    bob = served.browser("bob", BOB_PASSWORD)
    for token in (first, second):
        gone = bob.get(f"/shared/{token}")
        assert gone.status_code == 410
        assert "was revoked" in gone.get_data(as_text=True)
        assert bob.get(f"/shared/{token}/customers.csv").status_code == 410
    # revoking again: nothing was open
    assert alice.delete(f"/api/runs/{served.alice_run}/share").json["revoked"] == 0
    # a new link works again, and only the new one
    third = alice.post(f"/api/runs/{served.alice_run}/share").json["token"]
    assert bob.get(f"/shared/{third}").status_code == 200
    assert bob.get(f"/shared/{first}").status_code == 410


@pytest.mark.parametrize(
    "token",
    [
        "A" * 43,  # well-formed, never made
        "short",
        "seg_" + "A" * 43,  # an API key is no share token
        "..",
        "%00",
        "x" * 101,
    ],
)
def test_guessed_tokens_open_nothing(served, token):
    bob = served.browser("bob", BOB_PASSWORD)
    answer = bob.get(f"/shared/{token}")
    assert answer.status_code == 404
    assert "opens no run" in answer.get_data(as_text=True)


def test_another_users_run_cannot_be_shared(served):
    bob_api = served.api(served.bob_key)
    answer = bob_api.post(f"/api/runs/{served.alice_run}/share")
    assert answer.status_code == 404
    assert answer.json == {"error": f"no saved run {served.alice_run!r}"}
    assert bob_api.post("/api/runs/no-such-run/share").status_code == 404


def test_the_share_routes_need_a_key(served):
    anybody = served.app.server.test_client()
    assert anybody.post(f"/api/runs/{served.alice_run}/share").status_code == 401
    assert anybody.delete(f"/api/runs/{served.alice_run}/share").status_code == 401


def test_the_store_tells_revoked_from_unknown(served):
    token = served.store.share(served.bob_run, by="bob")
    assert served.store.shared_run(token) == served.bob_run
    assert served.store.open_shares(served.bob_run) >= 1
    assert served.store.revoke_shares(served.bob_run) >= 1
    assert served.store.open_shares(served.bob_run) == 0
    with pytest.raises(ShareRevokedError, match="revoked on"):
        served.store.shared_run(token)
    with pytest.raises(ShareNotFoundError, match="no share link"):
        served.store.shared_run("B" * 43)


def test_the_apps_share_and_revoke_buttons(served):
    storage.configure(served.folder)
    with served.app.server.test_request_context("/", base_url="https://seg.example"):
        flask.g.segmentation_user = "alice"
        said = run_callbacks.share_link(served.alice_run)
        listed = run_callbacks.list_runs(None)
    assert "anyone logged in here who has it" in said[0]
    url = said[-1].children
    assert url.startswith("https://seg.example/shared/")
    token = url.rsplit("/", 1)[1]
    assert served.store.shared_run(token) == served.alice_run
    buttons = _ids(listed)
    assert run_callbacks.run_share(served.alice_run) in buttons
    assert run_callbacks.run_unshare(served.alice_run) in buttons
    assert run_callbacks.run_share(served.bob_run) not in buttons
    with served.app.server.test_request_context("/"):
        flask.g.segmentation_user = "bob"
        with pytest.raises(RunNotFoundError):
            run_callbacks.share_link(served.alice_run)
        with pytest.raises(RunNotFoundError):
            run_callbacks.revoke_links(served.alice_run)
    with served.app.server.test_request_context("/"):
        flask.g.segmentation_user = "alice"
        said = run_callbacks.revoke_links(served.alice_run)
    assert re.fullmatch(
        rf"Revoked [0-9]+ share links? of run {re.escape(served.alice_run)}\.", said
    )
    bob = served.browser("bob", BOB_PASSWORD)
    assert bob.get(f"/shared/{token}").status_code == 410


def _ids(component) -> list:
    if isinstance(component, list | tuple):
        return [i for child in component for i in _ids(child)]
    found = getattr(component, "id", None)
    own = [found] if isinstance(found, dict) else []
    children = getattr(component, "children", None)
    return own + (_ids(children) if children is not None else [])


def test_a_run_removed_by_retention_takes_its_links(tmp_path):
    store = RunStore(tmp_path, max_runs=1)
    seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
    old = store.save(tiny_prepared(), seg, owner="alice")
    token = store.share(old, by="alice")
    store.save(tiny_prepared(sha256="ee" * 32), seg, owner="alice")  # old goes
    with pytest.raises(ShareNotFoundError) as found:
        store.shared_run(token)
    assert not isinstance(found.value, ShareRevokedError)
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'segmentation.db'}")
    with engine.connect() as connection:
        left = connection.execute(sa.text("SELECT count(*) FROM run_shares")).scalar()
    assert left == 0
