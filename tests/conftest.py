"""Shared fixtures: the real exports in ../shared/data, and each read only once.

Online Retail I is 541,909 lines: every test that needs it shares one session
read of it. The shared objects are read-only: a test that changes one must copy
it first (``frame.copy()``, ``dataclasses.replace``). Each is fingerprinted when
made and again at the end of the session, so a test that modifies one in place
fails there.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

#: Frames longer than this are fingerprinted on every ``_STRIDE``-th row (plus
#: shape, columns and dtypes): a whole-table hash of 541,909 lines costs ~0.4 s.
_FULL_HASH_ROWS = 50_000
_STRIDE = 97


def _real_file(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real export {path} is not available on this machine")
    return path


@pytest.fixture(scope="session")
def retail_csv() -> Path:
    """Online Retail I as CSV (541,909 lines)."""
    return _real_file("online_retail_I.csv")


@pytest.fixture(scope="session")
def retail_xlsx() -> Path:
    """Online Retail I as an Excel workbook (541,909 lines)."""
    return _real_file("online_retail_I.xlsx")


@pytest.fixture(scope="session")
def retail_ii_sample() -> Path:
    """Online Retail II subset, two sheets (14,269 + 20,497 lines)."""
    return _real_file("online_retail_II_sample.xlsx")


@pytest.fixture(scope="session")
def retail_ii_head() -> Path:
    """Online Retail II, first 499 lines of each sheet (998 lines)."""
    return _real_file("online_retail_II_head.xlsx")


# --- Online Retail I, read once per session ----------------------------------------


def _fingerprint(value) -> object:
    """A comparable summary of ``value`` that changes when it is modified in place."""
    if isinstance(value, pd.DataFrame | pd.Series):
        rows = value if len(value) <= _FULL_HASH_ROWS else value.iloc[::_STRIDE]
        columns = tuple(value.columns) if isinstance(value, pd.DataFrame) else ()
        dtypes = value.dtypes if isinstance(value, pd.DataFrame) else [value.dtype]
        return (
            value.shape,
            columns,
            tuple(map(str, dtypes)),
            int(pd.util.hash_pandas_object(rows).sum()),
        )
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value.shape, str(value.dtype), hashlib.sha1(value.tobytes()).hexdigest()
    if dataclasses.is_dataclass(value):
        return tuple(
            (f.name, _fingerprint(getattr(value, f.name)))
            for f in dataclasses.fields(value)
        )
    if isinstance(value, dict):
        return tuple((k, _fingerprint(v)) for k, v in value.items())
    if isinstance(value, list | tuple):
        return tuple(_fingerprint(v) for v in value)
    return repr(value)


def _read_only(value):
    """Yield ``value`` to the session; at its end, check no test modified it."""
    before = _fingerprint(value)
    yield value
    assert _fingerprint(value) == before, (
        f"a test modified the shared {type(value).__name__} in place: copy it first"
    )


@pytest.fixture(scope="session")
def retail_text(retail_csv) -> pd.DataFrame:
    """Online Retail I read by plain pandas, every field as the CSV's text.

    Empty fields are ``""``. The independent reference for the loader's reading:
    nothing of ``segmentation`` is involved.
    """
    yield from _read_only(
        pd.read_csv(retail_csv, engine="pyarrow", dtype="str", keep_default_na=False)
    )


@pytest.fixture(scope="session")
def retail_loaded(retail_csv):
    """``segmentation.io.load_transactions`` of Online Retail I (the CSV)."""
    from segmentation.io import load_transactions

    yield from _read_only(load_transactions(retail_csv))


@pytest.fixture(scope="session")
def retail_xlsx_loaded(retail_xlsx):
    """``segmentation.io.load_transactions`` of Online Retail I (the workbook)."""
    from segmentation.io import load_transactions

    yield from _read_only(load_transactions(retail_xlsx))


@pytest.fixture(scope="session")
def retail_prepared(retail_csv):
    """``segmentation.prepare`` of Online Retail I (the CSV), k sweep included."""
    import segmentation

    yield from _read_only(segmentation.prepare(retail_csv))
