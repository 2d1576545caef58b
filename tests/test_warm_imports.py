"""The models are imported on first use, and by the command line while a
workbook parses (the reader releases the GIL meanwhile).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from segmentation import _warm_imports
from segmentation.__main__ import main
from tests.test_loading_messy import _xlsx

HEADER = [
    "InvoiceNo",
    "StockCode",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
]
ROWS = [
    ["536365", "85123A", 6, "2010-12-01 08:26", 2.55, 17850],
    ["536366", "22633", 6, "2010-12-01 08:28", 1.85, 17850],
    ["536367", "84879", 32, "2010-12-01 08:34", 1.69, 13047],
]


def _csv_text() -> str:
    return "\n".join(",".join(map(str, row)) for row in [HEADER, *ROWS]) + "\n"


@pytest.fixture
def starts(monkeypatch):
    """Count the command line's calls of ``_warm_imports.start``."""
    calls: list[tuple] = []
    monkeypatch.setattr(_warm_imports, "start", lambda *a: calls.append(a))
    return calls


def test_the_command_line_starts_the_imports_for_a_workbook(tmp_path, starts):
    book = tmp_path / "book.xlsx"
    book.write_bytes(_xlsx({"Data": [HEADER, *ROWS]}))
    assert main([str(book), "-k", "2"]) == 0
    assert len(starts) == 1


def test_the_command_line_does_not_start_them_for_a_csv(tmp_path, starts):
    lines = tmp_path / "lines.csv"
    lines.write_text(_csv_text())
    assert main([str(lines), "-k", "2"]) == 0
    assert starts == []


def _module(tmp_path, name: str, body: str) -> str:
    (tmp_path / f"{name}.py").write_text(body)
    return name


def test_start_imports_the_missing_modules_in_a_thread(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    name = _module(
        tmp_path,
        "warm_probe_ok",
        "import threading\nTHREAD = threading.current_thread().name\n",
    )
    monkeypatch.delitem(sys.modules, name, raising=False)
    thread = _warm_imports.start((name,))
    assert isinstance(thread, threading.Thread)
    assert not thread.daemon  # exit waits: no half-imported C extension
    thread.join(timeout=30)
    assert sys.modules[name].THREAD == "segmentation-imports"
    assert _warm_imports.start((name,)) is None  # nothing left to import


def test_a_failing_import_is_left_to_the_callers_own_import(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    bad = _module(tmp_path, "warm_probe_bad", "raise ImportError('no such library')\n")
    after = _module(tmp_path, "warm_probe_after", "X = 1\n")
    for name in (bad, after):
        monkeypatch.delitem(sys.modules, name, raising=False)
    failures: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", failures.append)
    _warm_imports.start((bad, after)).join(timeout=30)
    assert failures == []  # nothing escaped the thread
    assert bad not in sys.modules
    assert after not in sys.modules  # it stops at the first failure
    with pytest.raises(ImportError, match="no such library"):
        __import__(bad)


def _passes_in_a_fresh_interpreter(script: str) -> None:
    """Run ``script`` in a new Python (nothing imported yet); it prints "ok"."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_the_pipeline_imports_scikit_learn_only_for_the_models(tmp_path):
    book = tmp_path / "book.xlsx"
    book.write_bytes(_xlsx({"Data": [HEADER, *ROWS]}))
    csv = tmp_path / "lines.csv"
    csv.write_text(_csv_text())
    script = f"""
        import sys
        import segmentation
        prepared = segmentation.prepare({str(csv)!r}, diagnostics=False)
        assert "sklearn" not in sys.modules, "a CSV without the sweep loads sklearn"
        segmentation.prepare({str(book)!r}, diagnostics=False)
        assert "sklearn" not in sys.modules, "a workbook without it loads sklearn"
        segmentation.segment(prepared, 2)
        assert "sklearn" in sys.modules
        print("ok")
        """
    _passes_in_a_fresh_interpreter(script)


def test_the_app_imports_the_models_at_start_up(tmp_path):
    script = f"""
        import sys
        from app import create_app
        from app.jobs import JOB_PRELOAD, MODEL_MODULES
        from segmentation import _warm_imports
        assert MODEL_MODULES == _warm_imports.MODEL_MODULES
        create_app({str(tmp_path)!r})
        missing = [m for m in MODEL_MODULES if m not in sys.modules]
        assert not missing, missing
        assert set(MODEL_MODULES) <= set(JOB_PRELOAD)
        print("ok")
        """
    _passes_in_a_fresh_interpreter(script)
