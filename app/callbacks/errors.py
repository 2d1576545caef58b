"""The app-level ``on_error`` handler.

A :class:`segmentation.errors.SegmentationError` is bad input explained in words:
its message is shown as it is. Anything else is a bug: the traceback goes to the
server log and the user sees a generic message. Either way the page keeps what it
already shows (the handler returns ``None``: no output is updated).
"""

from __future__ import annotations

import logging

from dash import set_props

from app import ids
from segmentation.errors import SegmentationError

logger = logging.getLogger(__name__)

GENERIC_MESSAGE = (
    "Something went wrong on the server while updating the page; what was shown "
    "before is kept. The details are in the server log."
)


def error_message(err: BaseException) -> str:
    """Return what the user is told about ``err`` (and log unexpected errors)."""
    if isinstance(err, SegmentationError):
        return str(err)
    logger.error("unexpected error in a callback", exc_info=err)
    return GENERIC_MESSAGE


def handle_callback_error(err: Exception) -> None:
    """Show ``err`` in ``error-alert``; keep every output as it was."""
    set_props(ids.ERROR_ALERT, {"children": error_message(err), "is_open": True})
