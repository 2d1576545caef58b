"""The app-level ``on_error`` handler.

A :class:`segmentation.errors.SegmentationError` is bad input explained in words:
its message is shown as it is. A failed write (disk full, read-only folder, no
permission) is named with its path (:func:`app.storage.folder_error`). A
background job's error reaches the handler as Dash's ``BackgroundCallbackError``
holding the job's traceback as text: when the job raised a SegmentationError
(e.g. :class:`app.storage.DataFolderError`) its message is shown. Anything else
is a bug: the traceback goes to the server log and the user sees a generic
message. Either way the page keeps what it already shows (the handler returns
``None``: no output is updated).
"""

from __future__ import annotations

import importlib
import logging
import re

from dash import set_props
from dash.exceptions import BackgroundCallbackError

from app import ids, storage
from segmentation.errors import SegmentationError

logger = logging.getLogger(__name__)

GENERIC_MESSAGE = (
    "Something went wrong on the server while updating the page; what was shown "
    "before is kept. The details are in the server log."
)
#: The modules whose errors a background job's traceback may name to be shown.
_SHOWN_MODULES = ("segmentation.errors", "app.storage")
#: The last line of a traceback: ``module.Class: message``.
_LAST_LINE = re.compile(r"^([A-Za-z_][\w.]*)\.([A-Za-z_]\w*): (.*)$", re.DOTALL)


def _job_error(err: BackgroundCallbackError) -> str | None:
    """Return the message of a SegmentationError a background job raised, or None."""
    lines = [line for line in str(err).strip().splitlines() if line.strip()]
    match = _LAST_LINE.match(lines[-1]) if lines else None
    if match is None or match.group(1) not in _SHOWN_MODULES:
        return None
    cls = getattr(importlib.import_module(match.group(1)), match.group(2), None)
    if isinstance(cls, type) and issubclass(cls, SegmentationError):
        return match.group(3)
    return None


def error_message(err: BaseException) -> str:
    """Return what the user is told about ``err`` (and log unexpected errors)."""
    if isinstance(err, SegmentationError):
        return str(err)
    named = storage.folder_error(err, storage.get_store().directory.parent)
    if named is not None:
        logger.warning("a write failed in a callback: %s", named)
        return str(named)
    if isinstance(err, BackgroundCallbackError):
        shown = _job_error(err)
        if shown is not None:
            return shown
    logger.error("unexpected error in a callback", exc_info=err)
    return GENERIC_MESSAGE


def handle_callback_error(err: Exception) -> None:
    """Show ``err`` in ``error-alert``; keep every output as it was."""
    set_props(ids.ERROR_ALERT, {"children": error_message(err), "is_open": True})
