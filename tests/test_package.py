"""The engine as a library: two calls from a notebook, and the installed commands."""

from __future__ import annotations

import gzip
import importlib
import io
import tomllib
from pathlib import Path

import pandas as pd

import segmentation
from segmentation.datasets import SAMPLE_NAME, sample_bytes

ROOT = Path(__file__).resolve().parents[1]


def test_a_dataframe_gives_the_same_customers_as_its_csv_file(tmp_path):
    text = sample_bytes()
    if text[:2] == b"\x1f\x8b":  # the sample may be handed over compressed
        text = gzip.decompress(text)
    lines = pd.read_csv(io.BytesIO(text), dtype=str)  # as a notebook would read it
    path = tmp_path / SAMPLE_NAME
    lines.to_csv(path, index=False)
    from_frame = segmentation.prepare(lines, diagnostics=False)
    from_file = segmentation.prepare(path, diagnostics=False)
    assert from_frame.source_name == "dataframe.csv"
    assert from_frame.report.rows_in == 32_291  # the sample's lines (its docstring)
    pd.testing.assert_frame_equal(from_frame.features, from_file.features)
    result = segmentation.segment(from_frame, k=3)
    assert len(result.customers) == len(from_file.features)


def test_every_console_script_names_a_function():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    scripts = project["scripts"]
    assert set(scripts) == {"segmentation", "segmentation-studio"}
    for target in scripts.values():
        module, _, name = target.partition(":")
        assert callable(getattr(importlib.import_module(module), name))


def test_the_pinned_install_covers_the_declared_dependencies():
    """requirements.txt (the tested install) lists every runtime dependency."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(specs):
        return {
            s.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip()
            for s in specs
            if s.strip() and not s.startswith("#")
        }

    pinned = names((ROOT / "requirements.txt").read_text().splitlines())
    assert names(project["dependencies"]) <= pinned
