"""Uploads, datasets, view links, jobs and runs belong to one workspace each.

Two users (alice and bob, each with their own session in their own Flask test
client, i.e. their own cookie jar: a browser each) and two anonymous browsers
of a server with ``SEGMENTATION_ALLOW_ANONYMOUS=1`` try what an attacker
would: send another workspace's dataset id (known, or guessed from a public
file's sha256), its staged upload id, its job handle, or replay its view link
(in another browser, and in the same browser after logging in as someone
else). Each is refused with a message; their own ids work. Requests go through
the real routes (``POST /upload``, ``POST /_dash-update-component``) of the
app ``create_app`` builds.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.parse
from pathlib import Path

import flask
import pytest

import segmentation
from app import create_app, ids, ownership, storage
from app.accounts import Accounts
from app.auth import ANONYMOUS_PREFIX, may_see, workspace
from app.callbacks import runs as run_callbacks
from segmentation.errors import RunNotFoundError
from segmentation.runs import RunStore
from tests.test_runs import tiny_prepared

EXPORTS = Path(__file__).parent / "data" / "exports"
ALICE_FILE = EXPORTS / "hex_order_ids.csv"
BOB_FILE = EXPORTS / "german_headers.csv"
ALICE_PASSWORD = "alice's long password"
BOB_PASSWORD = "bob's long password"
PAGE = "0123456789abcdef0123456789abcdef"
CALLBACK = "/_dash-update-component"


def upload(client, path: Path):
    """Send a file as the page's upload script does; return the JSON answer."""
    answer = client.post(
        "/upload",
        data=path.read_bytes(),
        headers={
            "Content-Type": "application/octet-stream",
            "X-File-Name": urllib.parse.quote(path.name),
            "X-Page-Token": PAGE,
        },
    )
    assert answer.status_code == 201, answer.data
    return answer.json


def dataset_of(sent: dict) -> dict:
    """The dataset store a page holds after loading an upload."""
    return {"id": sent["sha256"], "filename": sent["filename"], "mapping": None}


def mint_link(client, dataset: dict):
    """Ask the server for the view link of a dataset (the page's own callback)."""
    return client.post(
        CALLBACK,
        json={
            "output": f"{ids.VIEW_LINK}.data",
            "outputs": {"id": ids.VIEW_LINK, "property": "data"},
            "inputs": [{"id": ids.DATASET_STORE, "property": "data", "value": dataset}],
            "changedPropIds": [f"{ids.DATASET_STORE}.data"],
            "state": [],
        },
    )


def resolve(client, token: str) -> dict:
    """Open a page whose address is ``?view=token``: the view the server resolves."""
    answer = client.post(
        CALLBACK,
        json={
            "output": f"{ids.VIEW_STORE}.data",
            "outputs": {"id": ids.VIEW_STORE, "property": "data"},
            "inputs": [
                {"id": ids.URL_QUERY, "property": "data", "value": {"view": token}}
            ],
            "changedPropIds": [f"{ids.URL_QUERY}.data"],
            "state": [{"id": ids.DATASET_STORE, "property": "data", "value": None}],
        },
    )
    assert answer.status_code == 200, answer.data
    return answer.json["response"][ids.VIEW_STORE]["data"]


def load_job(client, uploaded: dict):
    """Start the loading job on a staged upload, as the page does after /upload."""
    return client.post(
        CALLBACK,
        json={
            "output": "..dataset-store.data..",
            "outputs": [{"id": ids.DATASET_STORE, "property": "data"}],
            "inputs": [
                {"id": ids.UPLOADED_STORE, "property": "data", "value": uploaded}
            ],
            "changedPropIds": [f"{ids.UPLOADED_STORE}.data"],
            "state": [],
        },
    )


class Team:
    """alice and bob on one server, each logged in in a browser of their own."""

    def __init__(self, folder: Path):
        self.folder = folder
        accounts = Accounts(directory=folder)
        accounts.add_user("alice", ALICE_PASSWORD)
        accounts.add_user("bob", BOB_PASSWORD)
        self.app = create_app(folder, first_screen=False)
        self.alice = self.browser("alice", ALICE_PASSWORD)
        self.bob = self.browser("bob", BOB_PASSWORD)
        self.alice_upload = upload(self.alice, ALICE_FILE)
        self.bob_upload = upload(self.bob, BOB_FILE)

    def browser(self, name: str, password: str):
        client = self.app.server.test_client()
        client.get("/login")
        answer = client.post("/login", data={"name": name, "password": password})
        assert answer.status_code == 303
        assert client.get("/").status_code == 200  # the page (and its cookies)
        return client

    def use(self) -> None:
        """Point the process-wide store at this server's folder (one app per test)."""
        storage.configure(self.folder)


@pytest.fixture(scope="module")
def team(tmp_path_factory) -> Team:
    os.environ.pop("SEGMENTATION_REQUIRE_LOGIN", None)
    os.environ.pop("SEGMENTATION_ALLOW_ANONYMOUS", None)
    return Team(tmp_path_factory.mktemp("team"))


# Datasets -----------------------------------------------------------------------
def test_the_upload_answer_is_the_files_sha256(team):
    assert (
        team.alice_upload["sha256"]
        == hashlib.sha256(ALICE_FILE.read_bytes()).hexdigest()
    )


def test_each_user_reads_their_own_dataset(team):
    team.use()
    for client, sent in ((team.alice, team.alice_upload), (team.bob, team.bob_upload)):
        answer = mint_link(client, dataset_of(sent))
        assert answer.status_code == 200
        token = answer.json["response"][ids.VIEW_LINK]["data"]
        assert len(token) == 32 and sent["sha256"] not in token


def test_another_users_dataset_id_is_refused_with_a_message(team):
    team.use()
    answer = mint_link(team.bob, dataset_of(team.alice_upload))
    assert answer.status_code == 403
    assert answer.json == {"error": ownership.REFUSED}
    assert "not in your workspace" in answer.json["error"]
    # the server carries on: bob's own dataset still answers
    assert mint_link(team.bob, dataset_of(team.bob_upload)).status_code == 200


def test_a_guessed_dataset_id_is_refused(team):
    """The sha256 of a file bob never uploaded (a published export) opens nothing."""
    team.use()
    public = (EXPORTS / "office_prefixed_ids.csv").read_bytes()
    for guess in (hashlib.sha256(public).hexdigest(), "0" * 64, "f" * 64):
        assert (
            mint_link(team.bob, {"id": guess, "filename": "x.csv"}).status_code == 403
        )


def test_a_dataset_id_hidden_in_another_store_is_refused(team):
    """The id is checked in any input or state: a comparison request, a list."""
    team.use()
    body = {
        "output": "x.data",
        "outputs": {"id": "x", "property": "data"},
        "inputs": [
            {
                "id": "comparison-request",
                "property": "data",
                "value": {"k": 3, "dataset": dataset_of(team.alice_upload)},
            }
        ],
        "state": [
            [
                {
                    "id": {"type": "t", "index": 1},
                    "property": "data",
                    "value": [{"id": team.alice_upload["sha256"]}],
                }
            ]
        ],
        "changedPropIds": [],
    }
    assert team.bob.post(CALLBACK, json=body).status_code == 403
    assert team.alice.post(CALLBACK, json=body).status_code != 403


def test_the_sample_is_everyones(team):
    team.use()
    sample = {"id": ownership.sample_id(), "filename": segmentation.SAMPLE_NAME}
    assert mint_link(team.bob, sample).status_code == 200


def test_another_users_staged_upload_is_refused(team):
    team.use()
    answer = load_job(team.bob, team.alice_upload)
    assert answer.status_code == 403
    assert "not in your workspace" in answer.json["error"]
    assert ownership.check_callback(
        {"inputs": [{"id": ids.UPLOADED_STORE, "value": team.alice_upload}]}, "alice"
    )


def test_another_users_job_handle_is_refused(team):
    """A poll (``?cacheKey=``) for a job another workspace started answers 403."""
    team.use()
    ownership.claim("job:handle-of-alice", "alice")
    body = {
        "output": "x.data",
        "outputs": {"id": "x", "property": "data"},
        "inputs": [],
        "state": [],
        "changedPropIds": [],
    }
    answer = team.bob.post(f"{CALLBACK}?cacheKey=handle-of-alice&job=1", json=body)
    assert answer.status_code == 403
    assert (
        team.alice.post(
            f"{CALLBACK}?cacheKey=handle-of-alice&job=1", json=body
        ).status_code
        != 403
    )
    # a handle nobody was given is refused too
    assert (
        team.alice.post(f"{CALLBACK}?cacheKey=made-up&job=1", json=body).status_code
        == 403
    )


# View links ----------------------------------------------------------------------
def test_a_view_link_opens_for_its_user_in_another_browser(team):
    team.use()
    token = mint_link(team.alice, dataset_of(team.alice_upload)).json["response"][
        ids.VIEW_LINK
    ]["data"]
    laptop = team.browser("alice", ALICE_PASSWORD)  # alice's second browser
    view = resolve(laptop, token)
    assert view["message"] is None
    assert view["dataset"]["id"] == team.alice_upload["sha256"]


def test_a_view_link_replayed_by_another_user_is_refused(team):
    team.use()
    token = mint_link(team.alice, dataset_of(team.alice_upload)).json["response"][
        ids.VIEW_LINK
    ]["data"]
    view = resolve(team.bob, token)  # bob's own browser
    assert view["dataset"] is None
    assert "not in your workspace" in view["message"]


def test_a_view_link_in_the_same_browser_after_another_log_in_is_refused(team):
    """A shared computer: alice logs out, bob logs in there and replays her link."""
    team.use()
    shared = team.browser("alice", ALICE_PASSWORD)
    token = mint_link(shared, dataset_of(team.alice_upload)).json["response"][
        ids.VIEW_LINK
    ]["data"]
    assert resolve(shared, token)["dataset"]["id"] == team.alice_upload["sha256"]
    shared.get("/logout")
    assert (
        shared.post(
            "/login", data={"name": "bob", "password": BOB_PASSWORD}
        ).status_code
        == 303
    )
    view = resolve(shared, token)
    assert view["dataset"] is None and "not in your workspace" in view["message"]
    assert mint_link(shared, dataset_of(team.alice_upload)).status_code == 403


# Saved runs in the app -------------------------------------------------------------
def test_reopening_a_run_gives_its_dataset_to_that_user_only(team):
    team.use()
    store = RunStore(team.folder)
    prepared = tiny_prepared(sha256="ab" * 32)
    seg = segmentation.segment(prepared, 2, seed=0, anomaly_share=0.1)
    run_id = store.save(prepared, seg, source="app", owner="alice")
    with team.app.server.test_request_context("/"):
        flask.g.segmentation_user = "bob"
        with pytest.raises(RunNotFoundError):
            run_callbacks.reopen(run_id)
        assert not ownership.owns("ab" * 32)
    with team.app.server.test_request_context("/"):
        flask.g.segmentation_user = "alice"
        dataset = run_callbacks.reopen(run_id)[0]
    assert dataset["id"] == "ab" * 32
    assert mint_link(team.alice, dataset).status_code == 200
    assert mint_link(team.bob, dataset).status_code == 403


def test_the_app_lists_each_users_own_runs_over_http(team):
    team.use()
    store = RunStore(team.folder)
    seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
    mine = store.save(tiny_prepared(sha256="cc" * 32), seg, source="app", owner="bob")
    body = {
        "output": f"{ids.RUNS_LIST}.children",
        "outputs": {"id": ids.RUNS_LIST, "property": "children"},
        "inputs": [{"id": ids.RUN_SAVED, "property": "children", "value": None}],
        "changedPropIds": [],
        "state": [],
    }
    bobs = json.dumps(team.bob.post(CALLBACK, json=body).json)
    alices = json.dumps(team.alice.post(CALLBACK, json=body).json)
    assert mine in bobs and mine not in alices


# Anonymous browsers ----------------------------------------------------------------
@pytest.fixture(scope="module")
def anonymous(tmp_path_factory):
    """A server with no account and SEGMENTATION_ALLOW_ANONYMOUS=1, two browsers."""
    os.environ["SEGMENTATION_ALLOW_ANONYMOUS"] = "1"
    folder = tmp_path_factory.mktemp("anonymous")
    app = create_app(folder, first_screen=False)
    first, second = app.server.test_client(), app.server.test_client()
    for browser in (first, second):
        assert browser.get("/").status_code == 200
    yield app, folder, first, second
    os.environ.pop("SEGMENTATION_ALLOW_ANONYMOUS", None)


def test_each_anonymous_browser_has_a_signed_workspace(anonymous):
    app, folder, first, _second = anonymous
    storage.configure(folder)
    cookie = first.get_cookie("session")
    assert cookie is not None and cookie.http_only
    with app.server.test_request_context(
        "/", headers={"Cookie": f"session={cookie.value}"}
    ):
        mine = workspace()
    assert mine.startswith(ANONYMOUS_PREFIX) and len(mine) == len(ANONYMOUS_PREFIX) + 32
    # a cookie changed by hand is not accepted: it gets a new workspace
    forged = (
        cookie.value[:-2] + ("A" if cookie.value[-2] != "A" else "B") + cookie.value[-1]
    )
    with app.server.test_request_context("/", headers={"Cookie": f"session={forged}"}):
        assert workspace() != mine


def test_anonymous_browsers_do_not_see_each_others_uploads(anonymous):
    _app, folder, first, second = anonymous
    storage.configure(folder)
    sent = upload(first, ALICE_FILE)
    assert mint_link(first, dataset_of(sent)).status_code == 200
    assert mint_link(second, dataset_of(sent)).status_code == 403
    assert load_job(second, sent).status_code == 403
    token = mint_link(first, dataset_of(sent)).json["response"][ids.VIEW_LINK]["data"]
    assert resolve(second, token)["dataset"] is None
    assert resolve(first, token)["dataset"]["id"] == sent["sha256"]


def test_anonymous_browsers_do_not_see_each_others_runs(anonymous):
    app, folder, first, second = anonymous
    storage.configure(folder)
    cookie = first.get_cookie("session").value
    with app.server.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        owner = workspace()
    store = RunStore(folder)
    seg = segmentation.segment(tiny_prepared(), 2, seed=0, anomaly_share=0.1)
    run_id = store.save(tiny_prepared(), seg, source="app", owner=owner)
    assert first.get(f"/api/runs/{run_id}").status_code == 200
    assert second.get(f"/api/runs/{run_id}").status_code == 404
    assert [r["id"] for r in first.get("/api/runs").json["runs"]] == [run_id]
    assert second.get("/api/runs").json["runs"] == []
    with app.server.test_request_context("/", headers={"Cookie": f"session={cookie}"}):
        assert may_see(owner) and not may_see(None)


def test_the_local_workspace_stays_open(tmp_path):
    """python -m app on loopback without accounts: every id opens, as before."""
    os.environ.pop("SEGMENTATION_ALLOW_ANONYMOUS", None)
    app = create_app(tmp_path, first_screen=False)
    client = app.server.test_client()
    client.get("/")
    with app.server.test_request_context("/"):
        assert workspace() is None
    assert mint_link(client, {"id": "0" * 64, "filename": "x.csv"}).status_code == 200


SHA = "ab" * 32


@pytest.mark.parametrize(
    ("value", "datasets", "uploads"),
    [
        ({"id": SHA, "filename": "a.csv"}, {SHA}, set()),  # the dataset store
        ({"dataset": {"id": SHA}, "k": 3}, {SHA}, set()),  # the view store
        ({"dataset": SHA, "k": 3}, {SHA}, set()),  # the comparison's store
        ([{"warm": {"id": SHA}}], {SHA}, set()),  # in a list
        ({"upload": "A" * 32, "sha256": SHA}, set(), {"A" * 32}),  # a staged file
        ({"id": SHA.upper()}, set(), set()),  # not a dataset id: never issued
        ({"id": SHA[:-1]}, set(), set()),
        ({"customer_id": SHA}, set(), set()),  # a customer id that is a hash
        ({"upload": "../x"}, set(), set()),
        (None, set(), set()),
    ],
)
def test_the_ids_a_callback_sends(value, datasets, uploads):
    assert ownership.sent_ids(value) == {"datasets": datasets, "uploads": uploads}
