"""Share links: a saved run, read-only, for whoever has the link.

A run is private to the workspace that saved it (:mod:`app.ownership`). Its
owner shares it only by a link: "Share link" in the app's saved runs
(:mod:`app.callbacks.runs`) or ``POST /api/runs/<run_id>/share``
(:mod:`app.api`) makes one, ``/shared/<token>``; "Revoke links" or ``DELETE
/api/runs/<run_id>/share`` revokes every link of the run. The token is 32
random bytes; the run database keeps only its SHA-256
(:meth:`segmentation.runs.RunStore.share`).

``GET /shared/<token>``
    The run's printable report (:func:`segmentation.html_report.render_html_report`,
    the same page as the app's "HTML report"), under a line saying it is a
    read-only shared run with a link to its customers. Nothing on it changes
    the run, saves, or reveals the owner's other runs or uploads.
``GET /shared/<token>/customers.csv``
    The run's labelled customers (:func:`segmentation.customers_csv`).

Who may open a link: when log-in is required (accounts exist, or
``SEGMENTATION_REQUIRE_LOGIN=1``), any logged-in user of the server who has
the link (the route is not open to all: a link that leaks outside the team
opens nothing without an account); otherwise (an anonymous server, or the
local workspace) anyone who has it. A revoked link answers 410 Gone, an
unknown one 404, each with a page saying so.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import flask

import segmentation
from segmentation.runs import (
    NotReopenableError,
    RunStore,
    ShareNotFoundError,
    ShareRevokedError,
)

#: The route's prefix.
SHARED_PATH = "/shared"


def share_url(token: str, root: str = "/") -> str:
    """Return the address of a share link (``root``: the server's, e.g. ``http://host/``)."""
    return f"{root.rstrip('/')}{SHARED_PATH}/{token}"


def _page(title: str, message: str, status: int) -> flask.Response:
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body {{ font-family: system-ui, sans-serif; max-width: 40rem;
margin: 12vh auto; padding: 0 1rem; }}</style></head>
<body><h1>{html.escape(title)}</h1><p role="alert">{html.escape(message)}</p>
</body></html>"""
    return flask.Response(body, status=status, mimetype="text/html")


def _refused(err: ShareNotFoundError) -> flask.Response:
    if isinstance(err, ShareRevokedError):
        return _page("This link was revoked", str(err), 410)
    return _page(
        "No such shared run",
        "This share link opens no run: it is mistyped, or its run was removed.",
        404,
    )


def _banner(run_id: str, token: str) -> str:
    csv = html.escape(f"{share_url(token)}/customers.csv")
    return (
        '<div role="note" style="font-family: system-ui, sans-serif; '
        "background: #EBF0F8; padding: .6rem 1rem; border-bottom: 1px solid "
        f'#c9d3e3">Shared run <code>{html.escape(run_id)}</code>, read-only. '
        f'<a href="{csv}" download>Download its customers (CSV)</a></div>'
    )


def shared_report(store: RunStore, run_id: str, token: str) -> str:
    """Return the HTML of a shared run: its report under a read-only banner.

    A run saved without its prepared data (an older version) has no report
    page; its summary is listed instead.
    """
    saved = store.load(run_id)
    try:
        prepared = store.load_prepared(run_id)
    except NotReopenableError:
        summary = store.summary(run_id)
        rows = "".join(
            f"<li>{html.escape(str(c.get('label', c)))}</li>"
            for c in summary.get("value_clusters", [])
        )
        return (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>Shared run {html.escape(run_id)}</title></head><body>"
            f"{_banner(run_id, token)}<h1>{html.escape(str(summary.get('file')))}"
            f"</h1><p>k = {summary.get('k')}, {summary.get('customers')} "
            f"customers.</p><ul>{rows}</ul></body></html>"
        )
    from segmentation.html_report import render_html_report  # Jinja2: on demand

    page = render_html_report(prepared, saved.segmentation, saved.metadata)
    at = page.find("<body")
    end = page.find(">", at) + 1 if at >= 0 else 0
    return page[:end] + _banner(run_id, token) + page[end:]


def register_shared(server: flask.Flask, store: Callable[[], RunStore]) -> None:
    """Add ``/shared/<token>`` and its customers' CSV to ``server``.

    Parameters
    ----------
    server : flask.Flask
        The app's server (log-in, when required, is :mod:`app.auth`'s).
    store : callable
        Returns the run store.
    """

    @server.get(f"{SHARED_PATH}/<token>")
    def shared_run(token: str):
        try:
            run_id = store().shared_run(token)
            page = shared_report(store(), run_id, token)
        except ShareNotFoundError as err:
            return _refused(err)
        except segmentation.SegmentationError as err:  # damaged since shared
            return _page("This shared run cannot be shown", str(err), 409)
        response = flask.Response(page, mimetype="text/html")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @server.get(f"{SHARED_PATH}/<token>/customers.csv")
    def shared_customers(token: str):
        try:
            run_id = store().shared_run(token)
            customers = store().load(run_id).segmentation.customers
        except ShareNotFoundError as err:
            return _refused(err)
        except segmentation.SegmentationError as err:
            return _page("This shared run cannot be shown", str(err), 409)
        response = flask.Response(
            segmentation.customers_csv(customers), mimetype="text/csv"
        )
        response.headers["Content-Disposition"] = (
            f'attachment; filename="{run_id}_customers.csv"'
        )
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response
