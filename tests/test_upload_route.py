"""``POST /upload`` (Flask test client), the staging folder, the job that takes a
staged file, and the view links of the page address."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import urllib.parse
from contextvars import copy_context
from pathlib import Path

import pytest
from dash._callback_context import context_value
from dash._utils import AttributeDict

import segmentation
from app import create_app, ids, storage, upload_route
from app.callbacks import upload, view_url
from segmentation.errors import SegmentationError

DATA = Path("/work/shared/data")
RETAIL_CSV = DATA / "online_retail_I.csv"
EXPORTS = Path(__file__).parent / "data" / "exports"
PAGE = "0123456789abcdef0123456789abcdef"
OTHER_PAGE = "fedcba9876543210fedcba9876543210"
LIMIT = 200 * 2**20  # DESIGN section 9: 200 MiB, the engine's max_bytes


class Reader(io.BytesIO):
    """A request body that records each read's size (and whether any happened)."""

    def __init__(self, data: bytes):
        super().__init__(data)
        self.sizes: list[int] = []

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.sizes.append(len(chunk))
        return chunk

    def readinto(self, buffer) -> int:
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    return create_app(tmp_path_factory.mktemp("data"))


@pytest.fixture
def client(app):
    return app.server.test_client()


def headers(name="orders.csv", page=PAGE, content_type="application/octet-stream"):
    found = {"Content-Type": content_type, "X-File-Name": urllib.parse.quote(name)}
    if page is not None:
        found["X-Page-Token"] = page
    return found


def staged_files() -> list[Path]:
    return sorted(upload_route.staging().directory.iterdir())


def test_the_limit_is_the_engines():
    assert upload_route.UPLOAD_LIMIT_BYTES == LIMIT == 209_715_200


def test_a_real_csv_is_streamed_to_disk_and_named_by_an_id(client):
    data = RETAIL_CSV.read_bytes()
    body = Reader(data)
    answer = client.post(
        "/upload",
        input_stream=body,
        headers={**headers("online_retail_I.csv"), "Content-Length": str(len(data))},
    )
    assert answer.status_code == 201, answer.get_json()
    got = answer.get_json()
    assert got["filename"] == "online_retail_I.csv"
    assert got["bytes"] == len(data) == RETAIL_CSV.stat().st_size
    assert got["sha256"] == hashlib.sha256(data).hexdigest()
    # read in chunks of at most 1 MiB, never the whole body at once
    assert max(body.sizes) <= 2**20 and len(body.sizes) >= len(data) // 2**20
    staged = upload_route.staging().directory / f"{got['upload']}.bin"
    assert staged.read_bytes() == data
    assert stat.S_IMODE(staged.stat().st_mode) == 0o600
    # not in the store yet: only the job stores what the engine accepts
    assert ("upload", got["sha256"]) not in storage.get_store().cache
    taken, meta = upload_route.staging().take(got["upload"], PAGE)
    assert taken == data and meta["filename"] == "online_retail_I.csv"
    assert not staged.exists()


def test_over_the_limit_is_refused_before_reading(client):
    body = Reader(b"x" * 10)
    before = staged_files()
    answer = client.post(
        "/upload",
        input_stream=body,
        headers=headers("year.csv"),
        environ_overrides={"CONTENT_LENGTH": str(LIMIT + 1)},
    )
    assert answer.status_code == 413
    assert answer.get_json()["error"] == (
        "The file year.csv (200.0 MB) is larger than the upload limit of 200 MB "
        "(209,715,200 bytes); nothing was uploaded."
    )
    assert body.sizes == []  # not a byte read
    assert staged_files() == before


@pytest.mark.parametrize(
    ("sent", "status", "said"),
    [
        (headers(content_type="text/csv"), 400, "must be sent as application/"),
        (headers(content_type="multipart/form-data; boundary=x"), 400, "not multipart"),
        (headers(content_type="application/json"), 400, "not application/json"),
        (headers(page=None), 400, "no page token (X-Page-Token)"),
        (headers(page="../../etc"), 400, "no page token"),
        (headers(name="report.pdf"), 400, "report.pdf: the app reads .csv .xlsx"),
        (headers(name="../../secret/"), 400, "is empty"),
        ({**headers(), "X-File-Name": ""}, 400, "has no file name"),
    ],
)
def test_bad_requests_are_named(client, sent, status, said):
    before = staged_files()
    answer = client.post("/upload", data=b"a,b\n1,2\n", headers=sent)
    assert answer.status_code == status
    assert said in answer.get_json()["error"]
    assert staged_files() == before


def test_an_empty_file_is_refused(client):
    answer = client.post("/upload", data=b"", headers=headers("empty.csv"))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == "empty.csv is empty (0 bytes)"


def test_a_folder_in_the_name_is_dropped(client):
    answer = client.post("/upload", data=b"a\n", headers=headers("C:\\x\\y\\z.csv"))
    assert answer.status_code == 201 and answer.get_json()["filename"] == "z.csv"


def test_a_body_passing_the_limit_while_read_is_dropped(tmp_path):
    staging = upload_route.Staging(tmp_path / "up")
    with pytest.raises(upload_route.UploadRefused) as refused:
        staging.receive(io.BytesIO(b"y" * 2500), "big.csv", PAGE, limit=2000)
    assert refused.value.status == 413
    assert "upload limit of 0 MB (2,000 bytes)" in str(refused.value)
    assert list(staging.directory.iterdir()) == []


def test_only_the_page_that_sent_a_file_takes_it(tmp_path):
    staging = upload_route.Staging(tmp_path / "up")
    sent = staging.receive(io.BytesIO(b"a,b\n"), "a.csv", PAGE)
    with pytest.raises(SegmentationError, match="no longer waiting"):
        staging.take(sent["upload"], OTHER_PAGE)
    with pytest.raises(SegmentationError, match="not an upload id"):
        staging.take("../x", PAGE)


def test_a_pages_new_upload_replaces_its_earlier_one_and_old_ones_go(tmp_path):
    staging = upload_route.Staging(tmp_path / "up")
    first = staging.receive(io.BytesIO(b"1"), "a.csv", PAGE)
    other = staging.receive(io.BytesIO(b"2"), "b.csv", OTHER_PAGE)
    second = staging.receive(io.BytesIO(b"3"), "c.csv", PAGE)
    names = {p.stem for p in staging.directory.iterdir()}
    assert names == {other["upload"], second["upload"]}
    assert first["upload"] not in names
    later = 1e12  # long after STAGED_SECONDS
    assert set(staging.sweep(now=later)) == {other["upload"], second["upload"]}
    assert list(staging.directory.iterdir()) == []


def run_job(trigger: str, **inputs):
    """Run ``upload.load_dataset`` as Dash would for ``trigger`` (prop id)."""
    args = {
        "uploaded": None,
        "sample_clicks": None,
        "apply_clicks": None,
        "view": None,
        "choices": [],
        "choice_ids": [],
        "pending": None,
        "page": PAGE,
        **inputs,
    }
    steps = []

    def call():
        context_value.set(
            AttributeDict(triggered_inputs=[{"prop_id": trigger, "value": 1}])
        )
        return upload.load_dataset(steps.append, **args)

    return copy_context().run(call), steps


def stage(client, path: Path, page: str = PAGE) -> dict:
    answer = client.post(
        "/upload", data=path.read_bytes(), headers=headers(path.name, page)
    )
    assert answer.status_code == 201
    return {**answer.get_json(), "sent": 1}


def test_the_job_loads_a_staged_file_and_stores_it(client):
    path = EXPORTS / "uci_returns.csv"
    sent = stage(client, path)
    result, steps = run_job(f"{ids.UPLOADED_STORE}.data", uploaded=sent)
    dataset, message, is_open, status, *_ = result
    assert (message, is_open) == (None, False)
    assert dataset["id"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert dataset["filename"] == "uci_returns.csv"
    assert status.startswith("Loaded uci_returns.csv:")
    assert ("upload", dataset["id"]) in storage.get_store().cache
    assert not any(p.stem == sent["upload"] for p in staged_files())
    # the progress names the step, the file and its size
    size = f"{path.stat().st_size / 2**20:.1f} MB"
    assert steps[0] == (0, f"Taking the uploaded file (uci_returns.csv, {size}): 0 s")
    assert any(text.startswith("Cleaning lines (uci_returns.csv") for _, text in steps)


def test_a_refused_file_is_not_stored(client):
    bad = b"InvoiceNo,CustomerID,InvoiceDate,Quantity,UnitPrice\n"
    answer = client.post("/upload", data=bad, headers=headers("no_customers.csv"))
    sent = {**answer.get_json(), "sent": 1}
    result, _ = run_job(f"{ids.UPLOADED_STORE}.data", uploaded=sent)
    _dataset, message, is_open, status, *_ = result
    assert message == "no_customers.csv has a header but no data rows"
    assert is_open and status == f"Failed: {message}"
    assert ("upload", hashlib.sha256(bad).hexdigest()) not in storage.get_store().cache
    assert not any(p.stem == sent["upload"] for p in staged_files())


def test_another_pages_upload_id_loads_nothing(client):
    sent = stage(client, EXPORTS / "uci_returns.csv", page=OTHER_PAGE)
    result, _ = run_job(f"{ids.UPLOADED_STORE}.data", uploaded=sent)
    _dataset, message, is_open, *_ = result
    assert is_open and "no longer waiting on the server" in message


def test_the_page_gets_a_browser_cookie(client):
    answer = client.get("/")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith(f"{upload_route.BROWSER_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    value = cookie.split(";")[0].split("=", 1)[1]
    assert len(value) == 32 and int(value, 16) >= 0
    # a browser that has one keeps it
    assert "Set-Cookie" not in client.get("/").headers


BROWSER_A = "a" * 32
BROWSER_B = "b" * 32


def in_browser(app, browser, func, *args):
    headers = {"Cookie": f"{upload_route.BROWSER_COOKIE}={browser}"} if browser else {}
    with app.server.test_request_context("/_dash-update-component", headers=headers):
        return func(*args)


def test_a_link_opens_only_where_the_file_was_loaded(app, client):
    sent = stage(client, EXPORTS / "uci_returns.csv")
    (dataset, *_), _ = run_job(f"{ids.UPLOADED_STORE}.data", uploaded=sent)
    token = in_browser(app, BROWSER_A, view_url.link_for, dataset)
    assert len(token) == 32 and dataset["id"] not in token
    assert in_browser(app, BROWSER_A, view_url.link_for, dataset) == token
    query = {"view": token, "k": "4", "sel": json.dumps({"cluster": 1})}
    mine = in_browser(app, BROWSER_A, view_url.resolve_view, query)
    assert mine == {
        "dataset": dataset,
        "k": 4,
        "method": None,
        "sel": {"cluster": 1},
        "message": None,
    }
    # the method travels in the address, not in the token
    shown = {**dataset, "method": "gmm"}
    assert in_browser(app, BROWSER_A, view_url.link_for, shown) == token
    with_method = {**query, "method": "gmm"}
    got = in_browser(app, BROWSER_A, view_url.resolve_view, with_method)
    assert (got["dataset"], got["method"]) == (dataset, "gmm")
    bogus = {**query, "method": "dbscan"}
    assert in_browser(app, BROWSER_A, view_url.resolve_view, bogus)["method"] is None
    theirs = in_browser(app, BROWSER_B, view_url.resolve_view, query)
    assert theirs["dataset"] is None
    assert theirs["message"].startswith("The link opens a dataset uploaded in another")
    nobody = in_browser(app, None, view_url.resolve_view, query)
    assert nobody["dataset"] is None
    # browser B loads the same file: now the link opens there too
    in_browser(app, BROWSER_B, view_url.link_for, dataset)
    assert (
        in_browser(app, BROWSER_B, view_url.resolve_view, query)["dataset"] == dataset
    )


def test_the_samples_link_opens_anywhere(app):
    (dataset, *_), _ = run_job(f"{ids.SAMPLE_BUTTON}.n_clicks", sample_clicks=1)
    token = in_browser(app, BROWSER_A, view_url.link_for, dataset)
    got = in_browser(app, BROWSER_B, view_url.resolve_view, {"view": token})
    assert got["dataset"] == dataset


@pytest.mark.parametrize(
    ("query", "k", "sel"),
    [
        ({"k": "11"}, None, None),
        ({"k": "1"}, None, None),
        ({"k": "four"}, None, None),
        ({"k": "10", "sel": "[1]"}, 10, None),
        ({"k": "2", "sel": "{not json"}, 2, None),
        ({"k": "3", "sel": "x" * 1501}, 3, None),
    ],
)
def test_an_address_with_bad_parts_keeps_what_it_can(app, query, k, sel):
    (dataset, *_), _ = run_job(f"{ids.SAMPLE_BUTTON}.n_clicks", sample_clicks=1)
    token = in_browser(app, BROWSER_A, view_url.link_for, dataset)
    got = in_browser(app, BROWSER_A, view_url.resolve_view, {"view": token, **query})
    assert (got["k"], got["sel"]) == (k, sel)


def test_an_unknown_link_says_so_and_the_sample_is_shown(app):
    view = in_browser(app, BROWSER_A, view_url.resolve_view, {"view": "f" * 32})
    assert view["message"].startswith("The link's dataset is no longer on the server")
    result, _ = run_job(f"{ids.VIEW_STORE}.data", view=view)
    dataset, message, is_open, status, *_ = result
    assert dataset["filename"] == segmentation.SAMPLE_NAME
    assert is_open and message.endswith("Showing the sample instead.")
    assert status.startswith(message)


def test_an_evicted_dataset_says_so_and_the_sample_is_shown(app):
    gone = {"id": "e" * 64, "filename": "gone.csv", "mapping": None}
    result, _ = run_job(f"{ids.VIEW_STORE}.data", view={"dataset": gone})
    dataset, message, is_open, *_ = result
    assert dataset["filename"] == segmentation.SAMPLE_NAME
    assert is_open and "dataset eeeeeeeeeeee is no longer on the server" in message


def test_no_address_and_a_dataset_on_screen_starts_no_job(app):
    shown = {"id": "1" * 64, "filename": "x.csv", "mapping": None}
    assert (
        in_browser(app, BROWSER_A, view_url.resolve_view, {}, shown)
        is view_url.no_update
    )
    assert (
        in_browser(app, BROWSER_A, view_url.resolve_view, {}, None)["dataset"] is None
    )
