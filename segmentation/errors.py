"""The exceptions users see.

Every error raised for bad input is a :class:`SegmentationError` whose message names
the file, the column, the row or the limit. The command line prints it as one
``error: ...`` line (exit 2); the app shows it in its error alert.

The classes pickle and unpickle intact (the app raises them inside background
callbacks, which run in another process).
"""

from __future__ import annotations


class SegmentationError(Exception):
    """Base class: bad input or an impossible request, explained in words.

    Parameters
    ----------
    message : str
        What is wrong and where (file, column, row or limit).
    **details
        Machine-readable context (e.g. ``headers=[...]`` for a mapping problem),
        kept as attributes and in :attr:`details`.
    """

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = dict(details)
        for key, value in details.items():
            setattr(self, key, value)

    def __reduce__(self):
        return (_rebuild, (type(self), self.message, self.details))

    def __str__(self) -> str:
        return self.message


def _rebuild(cls, message, details):
    return cls(message, **details)


class InputFileError(SegmentationError):
    """The file cannot be read: not a spreadsheet, corrupt, encrypted, empty."""


class LimitExceededError(InputFileError):
    """The file is over a documented limit (size, rows, columns, inflated size)."""


class ColumnMappingError(SegmentationError):
    """A required column is missing or ambiguous.

    Carries ``headers`` (the file's headers, as read) and ``missing`` (canonical
    names not found) so the app can ask the user to choose.
    """


class EmptyResultError(SegmentationError):
    """Nothing is left to segment (e.g. every line dropped by cleaning)."""


class TooFewCustomersError(SegmentationError):
    """Fewer customers than the requested number of value tiers."""


class RunNotFoundError(SegmentationError, KeyError):
    """No saved run has this id (or the id is not a valid run id)."""


class NotReopenableError(SegmentationError):
    """A run saved without ``prepared.pkl``: it scores, but cannot be reopened."""
