"""The built-in sample export, for the app's first screen, the CLI and the tests.

``online_retail_sample.csv.gz`` holds every invoice line of 400 customers drawn at
random (seed 20101201) from the UCI "Online Retail" dataset, plus 40 whole invoices
without a customer id, so that the cleaning receipt has something to show: 32,291
lines in the original header and text formats of ``online_retail_I.csv``.

Source: Chen, D. (2015). "Online Retail". UCI Machine Learning Repository,
https://doi.org/10.24432/C5BW33, licensed CC BY 4.0. Rows are unchanged.
"""

from __future__ import annotations

import gzip
from importlib import resources

SAMPLE_NAME = "online_retail_sample.csv"
_SAMPLE_FILE = "online_retail_sample.csv.gz"


def sample_bytes() -> bytes:
    """Return the sample export as CSV bytes (UTF-8, comma-separated).

    Returns
    -------
    bytes
        32,291 lines plus a header; see the module docstring for the source.
    """
    packed = resources.files(__name__).joinpath(_SAMPLE_FILE).read_bytes()
    return gzip.decompress(packed)
