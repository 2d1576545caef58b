"""An independent reference computation of DESIGN sections 4-5 for tests/data/exports.

Plain pandas (+ openpyxl for the two workbooks); it does NOT import the project's
``segmentation`` package, so tests can compare the engine against it. Each file in
``tests/data/exports/`` has a small loader here with hard-coded knowledge of its
layout (that is the point: the reference knows the answer, the engine has to find
it). Every loader returns a *tidy* frame with these columns:

- ``customer_id`` (str, ``""`` when missing), the canonical id as the user sees it
  (``17850.0`` -> ``17850``; Excel ``42`` shown as ``00042`` -> ``00042``);
- ``invoice_id`` (str) only when the file has an order/invoice column;
- ``invoice_date`` (datetime64, ``NaT`` when not a date);
- ``quantity`` (float) only when the file has one (else one unit per line);
- ``unit_price`` or ``amount`` (float; ``amount`` is the line total);
- ``status`` (str, lower case) and ``stock_code`` (str) when the file has them;
- ``raw``: the whole row of the file as a tuple of text cells (every column, mapped
  or not), used for summary-row detection and for exact duplicates.

Rules (DESIGN section 4 as read for these fixtures; tests/data/exports/README.md):

Buckets, first that applies wins:
 1. ``summary_row``: a cell is exactly ``Total`` / ``Subtotal`` / ``Grand total``
    (any case), or a cell holds a spreadsheet formula (``=SUM(...)``);
 2. ``missing_customer_id``; 3. ``unparseable_date``;
 4. ``non_numeric_quantity_or_price``;
 5. ``cancelled_order``: status cancelled / canceled (not a purchase, not a return);
 6. ``return``: quantity < 0, or a negative ``amount`` (line total column), or
    status refunded / returned;
 7. ``non_positive_price``: unit price <= 0 (a negative price is a bad-debt
    adjustment, not a return), amount == 0, or quantity 0;
 8. ``non_product_code``: UCI non-product stock codes (POST, DOT, M, C2, D, S,
    BANK CHARGES, AMAZONFEE, CRUK, PADS, B, gift_*);
 9. ``exact_duplicate``: the whole raw row repeats an earlier row, only in a file
    with an invoice column (without one identical lines are separate purchases);
10. ``kept``.
In every fixture no data line meets two of the conditions 2-9 at once (checked by
``make_exports.py``), so the bucket counts do not depend on the order above; only
footer rows meet several (summary_row wins).

Features (DESIGN section 5), over customers with at least one kept line:
``as_of`` = the day after the last kept purchase date; ``recency_days`` = as_of -
day of the last kept purchase; ``frequency`` = distinct invoice ids of kept lines
(no invoice column: distinct customer + timestamp); ``gross_monetary`` = sum of
kept line totals; ``returned_value`` = sum of |line total| of the customer's
``return`` lines (product codes only); ``monetary`` = max(gross - returned, 0);
``return_rate`` = min(returned / gross, 1).

Run ``python tests/exports_reference.py`` to print every file's counts and check
``tests/data/exports/expected_rfm.csv`` (hand-computed values) against this code.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pandas as pd

EXPORTS = Path(__file__).resolve().parent / "data" / "exports"

BUCKETS = (
    "kept",
    "summary_row",
    "missing_customer_id",
    "unparseable_date",
    "non_numeric_quantity_or_price",
    "cancelled_order",
    "return",
    "non_positive_price",
    "non_product_code",
    "exact_duplicate",
)
SUMMARY_WORDS = {"total", "subtotal", "grand total"}
NON_PRODUCT_CODES = {
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "BANK CHARGES",
    "AMAZONFEE",
    "CRUK",
    "PADS",
    "B",
}
CANCELLED = {"cancelled", "canceled"}
RETURNED = {"refunded", "returned"}
UCI = [
    "InvoiceNo",
    "StockCode",
    "Description",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]


# --------------------------------------------------------------------- helpers
def _num(text: pd.Series, decimal_comma: bool = False) -> pd.Series:
    text = text.astype(str).str.strip()
    if decimal_comma:
        text = text.str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _uci_id(text: pd.Series) -> pd.Series:
    """``17850.0`` -> ``17850``; empty stays empty."""
    text = text.fillna("").astype(str).str.strip()
    return text.str.replace(r"\.0$", "", regex=True)


def _dates(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text.str.strip(), format=fmt, errors="coerce")


def _raw(frame: pd.DataFrame) -> list[tuple]:
    return [
        tuple("" if v is None else str(v) for v in row)
        for row in frame.itertuples(index=False, name=None)
    ]


def _read_text(name: str, **kw) -> pd.DataFrame:
    return pd.read_csv(EXPORTS / name, dtype=str, keep_default_na=False, **kw)


def _uci_csv(name: str, date_format: str, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    raw = _read_text(name)
    assert list(raw.columns) == UCI + list(extra), raw.columns
    tidy = pd.DataFrame(
        {
            "customer_id": _uci_id(raw["CustomerID"]),
            "invoice_id": raw["InvoiceNo"].str.strip(),
            "invoice_date": _dates(raw["InvoiceDate"], date_format),
            "quantity": _num(raw["Quantity"]),
            "unit_price": _num(raw["UnitPrice"]),
            "stock_code": raw["StockCode"].str.strip(),
        }
    )
    if "Status" in extra:
        tidy["status"] = raw["Status"].str.strip().str.lower()
    tidy["raw"] = _raw(raw)
    return tidy


def _workbook_rows(name: str) -> tuple[list[str], list[list], list[list]]:
    """Header, values and number formats of the first sheet; blank rows dropped."""
    from openpyxl import load_workbook

    sheet = load_workbook(EXPORTS / name, data_only=False).worksheets[0]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    values, formats, blank = [], [], 0
    for row in rows[1:]:
        cells = [c.value for c in row]
        if all(v is None or str(v).strip() == "" for v in cells):
            blank += 1
            continue
        values.append(cells)
        formats.append([c.number_format for c in row])
    _workbook_rows.blank = blank
    return header, values, formats


def _uci_xlsx(name: str, zero_padded_customer: bool) -> pd.DataFrame:
    header, values, formats = _workbook_rows(name)
    assert header == UCI, header
    raw = pd.DataFrame(values, columns=header, dtype=object)
    cust = []
    for row, fmt in zip(values, formats):
        v, f = row[6], fmt[6]
        if v is None or str(v).strip() == "":
            cust.append("")
        elif isinstance(v, (int, float)) and zero_padded_customer:
            assert f == "00000", f
            cust.append(f"{int(v):05d}")
        elif isinstance(v, (int, float)):
            cust.append(str(int(v)))
        else:
            cust.append(str(v).strip())
    dates = pd.to_datetime(
        pd.Series(
            [v if hasattr(v, "year") else None for v in raw["InvoiceDate"]],
            dtype=object,
        ),
        errors="coerce",
    )
    tidy = pd.DataFrame(
        {
            "customer_id": cust,
            "invoice_id": ["" if v is None else str(v) for v in raw["InvoiceNo"]],
            "invoice_date": dates,
            "quantity": _num(raw["Quantity"].map(lambda v: "" if v is None else v)),
            "unit_price": _num(raw["UnitPrice"].map(lambda v: "" if v is None else v)),
            "stock_code": ["" if v is None else str(v) for v in raw["StockCode"]],
        }
    )
    tidy["raw"] = _raw(raw)
    tidy.attrs["blank_rows"] = _workbook_rows.blank
    return tidy


# --------------------------------------------------------------------- loaders
def load_office_prefixed_ids() -> pd.DataFrame:
    raw = _read_text("office_prefixed_ids.csv")
    tidy = pd.DataFrame(
        {
            "customer_id": raw["Customer ID"].str.strip(),
            "invoice_id": raw["Order ID"].str.strip(),
            "invoice_date": _dates(raw["Order Date"], "%m/%d/%Y"),
            "quantity": _num(raw["Quantity"]),
            "amount": _num(raw["Sales"]),
            "stock_code": raw["Product ID"].str.strip(),
        }
    )
    tidy["raw"] = _raw(raw)
    return tidy


def load_hex_order_ids() -> pd.DataFrame:
    raw = _read_text("hex_order_ids.csv")
    tidy = pd.DataFrame(
        {
            "customer_id": raw["customer_unique_id"].str.strip(),  # NOT customer_id
            "invoice_id": raw["order_id"].str.strip(),
            "invoice_date": _dates(
                raw["order_purchase_timestamp"], "%Y-%m-%d %H:%M:%S"
            ),
            "unit_price": _num(raw["price"]),  # no quantity: one unit per line
            "status": raw["order_status"].str.strip().str.lower(),
            "stock_code": raw["product_id"].str.strip(),
        }
    )
    tidy["raw"] = _raw(raw)
    return tidy


def _log(raw: pd.DataFrame) -> pd.DataFrame:
    tidy = pd.DataFrame(
        {
            "customer_id": raw["customer_id"].str.strip(),  # keep the zero padding
            "invoice_date": _dates(raw["date"], "%Y%m%d"),
            "quantity": _num(raw["quantity"]),
            "amount": _num(raw["amount"]),
        }
    )
    tidy["raw"] = _raw(raw)
    return tidy


def load_yyyymmdd_log() -> pd.DataFrame:
    raw = pd.read_csv(
        EXPORTS / "yyyymmdd_log.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "date", "quantity", "amount"],
        dtype=str,
    )
    return _log(raw)


def load_yyyymmdd_header() -> pd.DataFrame:
    raw = _read_text("yyyymmdd_header.csv")
    assert list(raw.columns) == ["customer_id", "date", "quantity", "amount"]
    return _log(raw)


def load_status_column() -> pd.DataFrame:
    return _uci_csv("status_column.csv", "%Y-%m-%d %H:%M:%S", extra=("Status",))


def load_german_headers() -> pd.DataFrame:
    raw = _read_text("german_headers.csv", sep=";")
    tidy = pd.DataFrame(
        {
            "customer_id": raw["Kundennummer"].str.strip(),
            "invoice_id": raw["Rechnungsnr"].str.strip(),
            "invoice_date": _dates(raw["Rechnungsdatum"], "%d.%m.%Y %H:%M"),
            "quantity": _num(raw["Menge"], decimal_comma=True),
            "unit_price": _num(raw["Einzelpreis"], decimal_comma=True),
            "stock_code": raw["Artikelnr"].str.strip(),
        }
    )
    tidy["raw"] = _raw(raw)  # includes Positionsnr: it tells same-looking lines apart
    return tidy


def load_footer_rows_csv() -> pd.DataFrame:
    return _uci_csv("footer_rows.csv", "%Y-%m-%d %H:%M:%S")


def load_footer_rows_xlsx() -> pd.DataFrame:
    return _uci_xlsx("footer_rows.xlsx", zero_padded_customer=False)


def load_ambiguous_dates() -> pd.DataFrame:
    return _uci_csv("ambiguous_dates.csv", "%d/%m/%Y %H:%M")  # day first (README)


def load_leading_zeros() -> pd.DataFrame:
    return _uci_xlsx("leading_zeros.xlsx", zero_padded_customer=True)


def load_uci_returns() -> pd.DataFrame:
    return _uci_csv("uci_returns.csv", "%Y-%m-%d %H:%M:%S")


def load_dd_mm_yyyy_dashes() -> pd.DataFrame:
    return _uci_csv("dd_mm_yyyy_dashes.csv", "%d-%m-%Y %H:%M")


LOADERS = {
    "office_prefixed_ids.csv": load_office_prefixed_ids,
    "hex_order_ids.csv": load_hex_order_ids,
    "yyyymmdd_log.txt": load_yyyymmdd_log,
    "yyyymmdd_header.csv": load_yyyymmdd_header,
    "status_column.csv": load_status_column,
    "german_headers.csv": load_german_headers,
    "footer_rows.csv": load_footer_rows_csv,
    "footer_rows.xlsx": load_footer_rows_xlsx,
    "ambiguous_dates.csv": load_ambiguous_dates,
    "leading_zeros.xlsx": load_leading_zeros,
    "uci_returns.csv": load_uci_returns,
    "dd_mm_yyyy_dashes.csv": load_dd_mm_yyyy_dashes,
}


# --------------------------------------------------------------------- rules
def line_totals(tidy: pd.DataFrame) -> pd.Series:
    if "amount" in tidy.columns:
        return tidy["amount"]
    quantity = tidy["quantity"] if "quantity" in tidy.columns else 1.0
    return tidy["unit_price"] * quantity


def conditions(tidy: pd.DataFrame) -> pd.DataFrame:
    """Every condition of the bucket list, non-exclusively, one column each."""
    n = len(tidy)
    value = tidy["amount"] if "amount" in tidy.columns else tidy["unit_price"]
    quantity = (
        tidy["quantity"]
        if "quantity" in tidy.columns
        else pd.Series(1.0, index=tidy.index)
    )
    status = (
        tidy["status"] if "status" in tidy.columns else pd.Series("", index=tidy.index)
    )
    code = (
        tidy["stock_code"].str.upper()
        if "stock_code" in tidy.columns
        else pd.Series("", index=tidy.index)
    )
    summary = [
        any(
            str(c).strip().lower() in SUMMARY_WORDS or str(c).strip().startswith("=")
            for c in row
        )
        for row in tidy["raw"]
    ]
    out = pd.DataFrame(index=tidy.index)
    out["summary_row"] = summary
    out["missing_customer_id"] = tidy["customer_id"].fillna("").str.strip().eq("")
    out["unparseable_date"] = tidy["invoice_date"].isna()
    out["non_numeric_quantity_or_price"] = ~(np.isfinite(quantity) & np.isfinite(value))
    out["cancelled_order"] = status.isin(CANCELLED)
    if "amount" in tidy.columns:  # a line total: negative = a return, 0 = no value
        negative_total, no_value = tidy["amount"] < 0, tidy["amount"] == 0
    else:  # a unit price: negative = a bad-debt adjustment, not a return
        negative_total, no_value = pd.Series(False, index=tidy.index), value <= 0
    out["return"] = (quantity < 0) | negative_total | status.isin(RETURNED)
    out["non_positive_price"] = no_value | (quantity == 0)
    out["non_product_code"] = code.isin(NON_PRODUCT_CODES) | code.str.startswith(
        "GIFT_"
    )
    if "invoice_id" in tidy.columns:
        out["exact_duplicate"] = pd.Series(tidy["raw"]).duplicated().to_numpy()
    else:
        out["exact_duplicate"] = np.zeros(n, dtype=bool)
    assert len(out) == n
    return out


def classify(tidy: pd.DataFrame) -> pd.Series:
    """Each line's bucket: the first condition in BUCKETS order (after kept)."""
    flags = conditions(tidy)
    bucket = pd.Series("kept", index=tidy.index, dtype=object)
    open_ = pd.Series(True, index=tidy.index)
    for name in BUCKETS[1:]:
        hit = open_ & flags[name]
        bucket[hit] = name
        open_ &= ~hit
    return bucket


def bucket_counts(tidy: pd.DataFrame) -> dict[str, int]:
    counts = classify(tidy).value_counts()
    return {b: int(counts.get(b, 0)) for b in BUCKETS}


def as_of(tidy: pd.DataFrame) -> pd.Timestamp:
    kept = tidy[classify(tidy) == "kept"]
    return kept["invoice_date"].max().normalize() + pd.Timedelta(days=1)


def rfm(tidy: pd.DataFrame) -> pd.DataFrame:
    """Per customer: recency_days, frequency, monetary, gross_monetary,
    returned_value, return_rate (index customer_id, sorted)."""
    bucket = classify(tidy)
    total = line_totals(tidy)
    kept = tidy[bucket == "kept"].assign(line_total=total[bucket == "kept"])
    ref = kept["invoice_date"].max().normalize() + pd.Timedelta(days=1)
    key = kept["invoice_id"] if "invoice_id" in kept.columns else kept["invoice_date"]
    per = (
        kept.assign(order_key=key)
        .groupby("customer_id")
        .agg(
            last=("invoice_date", "max"),
            frequency=("order_key", "nunique"),
            gross_monetary=("line_total", "sum"),
        )
    )
    is_return = bucket == "return"
    if "stock_code" in tidy.columns:
        code = tidy["stock_code"].str.upper()
        is_return &= ~(code.isin(NON_PRODUCT_CODES) | code.str.startswith("GIFT_"))
    returned = total[is_return].abs().groupby(tidy.loc[is_return, "customer_id"]).sum()
    per["returned_value"] = returned.reindex(per.index, fill_value=0.0).astype(float)
    per["recency_days"] = (ref - per["last"].dt.normalize()).dt.days.astype(int)
    per["monetary"] = (per["gross_monetary"] - per["returned_value"]).clip(lower=0.0)
    rate = per["returned_value"] / per["gross_monetary"].where(
        per["gross_monetary"] > 0
    )
    per["return_rate"] = rate.fillna(0.0).clip(0.0, 1.0)
    cols = [
        "recency_days",
        "frequency",
        "monetary",
        "gross_monetary",
        "returned_value",
        "return_rate",
    ]
    return per[cols].round({"monetary": 2, "gross_monetary": 2, "returned_value": 2})


def summary(name: str) -> dict:
    tidy = LOADERS[name]()
    counts = bucket_counts(tidy)
    features = rfm(tidy)
    return {
        "file": name,
        "lines_read": len(tidy),
        "blank_rows_skipped": tidy.attrs.get("blank_rows", 0),
        "customers": len(features),
        "as_of": str(as_of(tidy).date()),
        "buckets": counts,
    }


def check_expected(path: Path = EXPORTS / "expected_rfm.csv") -> list[str]:
    """Compare the hand-computed rows of expected_rfm.csv with :func:`rfm`."""
    problems = []
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    cache: dict[str, pd.DataFrame] = {}
    for row in rows:
        name = row["file"]
        if name not in cache:
            cache[name] = rfm(LOADERS[name]())
        features = cache[name]
        cid = row["customer_id"]
        if cid not in features.index:
            problems.append(f"{name} {cid}: not a customer in the reference")
            continue
        got = features.loc[cid]
        for col in ("recency_days", "frequency"):
            if int(got[col]) != int(row[col]):
                problems.append(
                    f"{name} {cid} {col}: reference {got[col]} != hand {row[col]}"
                )
        for col in ("monetary", "gross_monetary", "returned_value"):
            if abs(float(got[col]) - float(row[col])) > 0.005:
                problems.append(
                    f"{name} {cid} {col}: reference {got[col]} != hand {row[col]}"
                )
    return problems


if __name__ == "__main__":
    for name in LOADERS:
        s = summary(name)
        nonzero = {k: v for k, v in s["buckets"].items() if v}
        print(
            f"{name}: lines={s['lines_read']} blank_skipped={s['blank_rows_skipped']} "
            f"customers={s['customers']} as_of={s['as_of']} {nonzero}"
        )
        assert sum(s["buckets"].values()) == s["lines_read"]
    problems = check_expected()
    for p in problems:
        print("MISMATCH", p)
    print(
        f"expected_rfm.csv: {'OK' if not problems else f'{len(problems)} mismatch(es)'}"
    )
    sys.exit(1 if problems else 0)
