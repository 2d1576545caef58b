"""The command line speaks: the receipt and every assumption on standard error.

Issue "Right numbers on real exports ... and a receipt that speaks up"; DESIGN
section 4 ("assumptions are announced, on the CLI's standard error") and 8.
Small files are cut from the real Online Retail I rows (../shared/data); the
counts asserted are counted here from those rows with plain pandas.
"""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

import segmentation
from segmentation.__main__ import main

EXPORTS = Path(__file__).parent / "data" / "exports"
#: The first 1,500 lines of Online Retail I: 71 customers, 58 lines without a
#: customer, 12 negative quantities, 36 lines repeating an earlier whole row.
HEAD_LINES = 1_500
RECEIPT_LINE = re.compile(r"^(?P<label>\S.*?|  \S.*?) +(?P<count>[\d,]+)$")


@pytest.fixture(scope="module")
def head_csv(retail_csv, tmp_path_factory) -> Path:
    """The header and first HEAD_LINES lines of Online Retail I, as a file."""
    path = tmp_path_factory.mktemp("head") / "retail_head.csv"
    with retail_csv.open(encoding="utf-8") as source:
        path.write_text("".join(itertools.islice(source, HEAD_LINES + 1)), "utf-8")
    return path


@pytest.fixture(scope="module")
def head_rows(head_csv) -> pd.DataFrame:
    return pd.read_csv(head_csv, dtype=str, keep_default_na=False)


def run(capsys, *argv) -> tuple[int, list[str]]:
    """Run the command line; return its exit code and its stderr lines."""
    try:
        code = main([str(a) for a in argv])
    except SystemExit as stop:  # argparse errors
        code = stop.code
    return code, capsys.readouterr().err.splitlines()


def receipt(lines: list[str]) -> dict[str, int]:
    """Return the receipt's ``label -> count``, from "lines read" to "lines kept"."""
    start = next(i for i, line in enumerate(lines) if line.startswith("lines read"))
    end = next(i for i, line in enumerate(lines) if line.startswith("lines kept"))
    found = {}
    for line in lines[start : end + 1]:
        match = RECEIPT_LINE.match(line)
        assert match, line
        found[match["label"].strip()] = int(match["count"].replace(",", ""))
    return found


def notes(lines: list[str]) -> list[str]:
    return [line.removeprefix("note: ") for line in lines if line.startswith("note: ")]


def test_a_run_prints_the_receipt_and_every_assumption(head_csv, head_rows, capsys):
    code, err = run(capsys, head_csv, "-k", "3")
    assert code == 0
    counts = receipt(err)
    assert counts["lines read"] == HEAD_LINES == len(head_rows)
    assert counts["missing_customer_id"] == (head_rows["CustomerID"] == "").sum()
    negative = (head_rows["Quantity"].astype(int) < 0) & (head_rows["CustomerID"] != "")
    assert counts["return"] == negative.sum()
    buckets = {k: v for k, v in counts.items() if k not in ("lines read", "lines kept")}
    assert all(n > 0 for n in buckets.values())  # only non-empty buckets
    assert sum(buckets.values()) + counts["lines kept"] == HEAD_LINES
    prepared = segmentation.prepare(head_csv, diagnostics=False)
    assert prepared.report.rules  # the return rule and the duplicate policy
    assert notes(err) == [*prepared.notes, *prepared.report.rules]
    assert counts["lines kept"] == prepared.report.kept
    # the receipt and notes come last, after the progress and the summary
    assert err[-1].startswith("note: ")


def test_keep_duplicates_counts_repeated_rows_as_purchases(head_csv, head_rows, capsys):
    code, err = run(capsys, head_csv, "--keep-duplicates")
    assert code == 0
    kept = receipt(err)
    _, err_default = run(capsys, head_csv)
    dropped = receipt(err_default)
    repeated = head_rows.duplicated().sum()  # 36 whole rows repeat an earlier one
    assert 0 < dropped["exact_duplicate"] <= repeated
    assert "exact_duplicate" not in kept
    assert kept["lines kept"] == dropped["lines kept"] + dropped["exact_duplicate"]
    assert notes(err) != notes(err_default)  # the duplicate policy says which ran


def test_quiet_prints_nothing_but_still_writes(head_csv, tmp_path, capsys):
    out, report = tmp_path / "c.csv", tmp_path / "r.json"
    code, err = run(capsys, head_csv, "--quiet", "-o", out, "--report", report)
    assert code == 0 and err == []
    assert json.loads(report.read_text())["cleaning"]["rows_in"] == HEAD_LINES
    assert out.read_text().startswith("customer_id,")


def test_quiet_still_prints_the_error(tmp_path, capsys):
    path = tmp_path / "shop.csv"
    path.write_text("Cust Code,Order No,Order Date,Qty,Price\nK1,1,2024-01-02,1,2\n")
    code, err = run(capsys, path, "-q")
    assert code == 2 and len(err) == 1 and err[0].startswith("error: shop.csv: ")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (
            "Cust Code,Order No,Order Date,Qty,Price",
            "error: shop.csv: no column for customer_id (headers found: Cust Code, "
            "Order No, Order Date, Qty, Price); pass --map customer_id=<header>, "
            "e.g. --map 'customer_id=Cust Code'",
        ),
        (
            "Klant,Wanneer,Bedrag",
            "error: shop.csv: no column for customer_id, invoice_date, unit_price "
            "(or amount) (headers found: Klant, Wanneer, Bedrag); pass --map "
            "customer_id=<header> --map invoice_date=<header> --map "
            "unit_price=<header>, e.g. --map customer_id=Klant",
        ),
    ],
)
def test_a_mapping_error_names_the_headers_and_the_fix(
    tmp_path, capsys, header, message
):
    path = tmp_path / "shop.csv"
    path.write_text(f"{header}\n" + ",".join(["1"] * (header.count(",") + 1)))
    code, err = run(capsys, path)
    assert code == 2
    errors = [line for line in err if line.startswith("error:")]
    assert errors == [message] and err[-1] == message


def test_the_fix_the_mapping_error_names_works(tmp_path, capsys):
    path = tmp_path / "shop.csv"
    # Customer K<c> orders qty[c] units at 3.5, three times: monetary 3 * 3.5 *
    # qty = 10.5 for K0..K2, 105 for K3, K4 and 115.5 for K5. Value tiers read
    # frequency and monetary only (DESIGN 6), so the customers must differ in
    # spend to be tiered; these fall apart in two obvious groups of three.
    qty = [1, 1, 1, 10, 10, 11]
    rows = [f"K{c},{c}-{o},2024-03-{1 + c + 7 * o:02d},{qty[c]},3.5"
            for c in range(6) for o in range(3)]  # fmt: skip
    path.write_text("Cust Code,Order No,Order Date,Qty,Price\n" + "\n".join(rows))
    report = tmp_path / "run.json"
    code, err = run(
        capsys, path, "-k", "2", "--map", "customer_id=Cust Code", "--report", report
    )
    assert code == 0 and receipt(err)["lines kept"] == 18  # 6 customers x 3 orders
    written = json.loads(report.read_text())
    assert written["mapping"]["customer_id"] == "Cust Code"
    assert written["customers"] == 6
    low, high = written["value_clusters"]
    assert (low["customers"], high["customers"]) == (3, 3)
    # K0..K2 (10.5 each) and K3..K5 (105, 105, 115.5): medians 10.5 and 105
    assert (low["median_monetary"], high["median_monetary"]) == (10.5, 105.0)


def test_customers_who_all_bought_alike_cannot_be_tiered(tmp_path, capsys):
    path = tmp_path / "shop.csv"
    # every customer: 3 orders of 2 x 3.5 = 7, so frequency 3 and monetary 21 for
    # all six; recency differs but is not a value (DESIGN 6)
    rows = [f"K{c},{c}-{o},2024-03-{1 + c + 7 * o:02d},2,3.5" for c in range(6)
            for o in range(3)]  # fmt: skip
    path.write_text("Cust Code,Order No,Order Date,Qty,Price\n" + "\n".join(rows))
    code, err = run(capsys, path, "-k", "2", "--map", "customer_id=Cust Code")
    assert code == 2 and err[-1].startswith("error: ")
    assert "6 customers (1 distinct frequency/monetary rows) are too few" in err[-1]


def test_an_empty_result_still_writes_the_report_with_the_receipt(
    head_rows, tmp_path, capsys
):
    nobody = head_rows[head_rows["CustomerID"] == ""].head(40)  # real lines
    path, report = tmp_path / "nobody.csv", tmp_path / "run.json"
    nobody.to_csv(path, index=False)
    code, err = run(capsys, path, "--report", report)
    assert code == 2
    assert err[-1].startswith("error: nobody.csv: ") and str(report) in err[-1]
    assert sum(line.startswith("error:") for line in err) == 1
    assert receipt(err)["missing_customer_id"] == 40
    written = json.loads(report.read_text())
    assert written["input"]["file"] == "nobody.csv"
    assert len(written["input"]["sha256"]) == 64
    assert written["cleaning"]["rows_in"] == 40
    assert written["cleaning"]["counts"]["missing_customer_id"] == 40
    assert written["cleaning"]["kept"] == written["customers"] == 0
    assert written["mapping"] is None or written["mapping"]["customer_id"]


def test_an_empty_result_without_report_writes_nothing(head_rows, tmp_path, capsys):
    path = tmp_path / "nobody.csv"
    head_rows[head_rows["CustomerID"] == ""].head(5).to_csv(path, index=False)
    code, err = run(capsys, path, "-q")
    assert code == 2 and len(err) == 1 and err[0].startswith("error: nobody.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nobody.csv"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["a.csv", "--day-first", "--month-first"], "not allowed with argument"),
        (["a.csv", "--columns", "customer_id,when"], "unknown column 'when'"),
        (
            ["a.csv", "--columns", "customer_id,customer_id"],
            "customer_id is given twice",
        ),
    ],
)
def test_bad_new_flags_give_one_error_line(argv, message, capsys):
    code, err = run(capsys, *argv)
    assert code == 2 and len(err) == 1
    assert err[0].startswith("error: ") and message in err[0]


def test_columns_skip_marks_are_accepted():
    from segmentation.__main__ import build_parser

    args = build_parser().parse_args(["a.txt", "--columns", "customer_id,-,,amount"])
    assert args.columns == ["customer_id", "-", "", "amount"]
    assert args.day_first is None and not args.keep_duplicates and not args.quiet
    assert build_parser().parse_args(["a.csv", "--month-first"]).day_first is False


def test_a_headerless_log_needs_columns(capsys):
    log = EXPORTS / "yyyymmdd_log.txt"
    code, err = run(capsys, log)
    assert code == 2 and "--columns" in err[-1]
    code, err = run(
        capsys, log, "-k", "2", "--columns", "customer_id,invoice_date,quantity,amount"
    )
    assert code == 0
    assert receipt(err)["lines read"] == len(log.read_text().splitlines())
    assert any("quantity" in n or "date" in n.lower() for n in notes(err)), err


def test_day_first_and_month_first_read_ambiguous_dates_differently(tmp_path, capsys):
    path = EXPORTS / "ambiguous_dates.csv"
    code, err = run(capsys, path, "-k", "2")
    assert code == 0 and notes(err)  # the data cannot tell: said
    as_of = {}
    for flag in ("--day-first", "--month-first"):
        report = tmp_path / f"{flag}.json"
        code, err = run(capsys, path, "-k", "2", flag, "--report", report)
        assert code == 0
        as_of[flag] = json.loads(report.read_text())["as_of"]
    assert as_of["--day-first"] != as_of["--month-first"]
