"""Shared fixtures: paths to the real exports in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


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
