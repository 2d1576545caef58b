"""A file as ``POST /upload`` leaves it: staged, for the loading job to take."""

from __future__ import annotations

import io

from app import upload_route


def staged(data: bytes, name: str, page: str = "") -> dict:
    """Stage ``data`` as the upload route would; return ``ids.UPLOADED_STORE``'s value.

    ``page`` is the page token the job must be called with (``""``: a job
    called without one, as the tests that pass positional arguments do).
    """
    sent = upload_route.staging().receive(io.BytesIO(data), name, page)
    return {**sent, "sent": 1}
