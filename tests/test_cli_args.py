"""The command line's argument errors: one ``error:`` line, exit 2."""

from __future__ import annotations

import pytest

from segmentation.__main__ import main


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "give one INPUT file, or --sample"),
        (["a.csv", "--sample"], "give one INPUT file, or --sample"),
        (["a.csv", "-k", "1"], "k must be between 2 and 10, got 1"),
        (["a.csv", "-k", "11"], "k must be between 2 and 10, got 11"),
        (["a.csv", "-k", "three"], "k must be a whole number, got 'three'"),
        (["a.csv", "--map", "customer_id"], "--map takes canonical=Header"),
        (["a.csv", "--map", "shoe_size=Size"], "unknown column 'shoe_size'"),
        (["a.csv", "--as-of", "yesterday-ish"], "--as-of takes YYYY-MM-DD"),
        (["a.csv", "--anomaly-share", "0.9"], "--anomaly-share must be in (0, 0.5]"),
        (["no/such/file.csv"], "no/such/file.csv: no such file"),
    ],
)
def test_bad_arguments_give_one_error_line_and_exit_2(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as stop:
        code = stop.code
    assert code == 2
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert message in lines[0]
