"""Build tests/data/styles/: real Online Retail I customers in other shop shapes.

Run from anywhere: ``python tests/data/make_style_files.py``. Deterministic and
re-runnable: it reads ``../shared/data/online_retail_I.csv`` (next to the repo)
and writes, for three selections of real customers, ALL of their real lines (in
file order, every column but ``Description``, which no rule reads):

- ``wholesale_heavy.xlsx``: the customers whose median order (kept purchase
  lines: no ``C`` invoice, quantity > 0, price > 0) is above 1,000: a shop of
  big wholesale accounts, where the value, not the count, of orders is large.
- ``sixty_customers.csv``: every 73rd customer id in ascending order (60): a
  tiny shop.
- ``one_country.csv``: every customer of ``Germany`` (95): a country export,
  a few large accounts among many small ones.

Used by ``tests/test_anomaly_criterion.py``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "styles"
SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail_I.csv"
COLUMNS = [
    "InvoiceNo",
    "StockCode",
    "Quantity",
    "InvoiceDate",
    "UnitPrice",
    "CustomerID",
    "Country",
]
#: Median kept order value above which a customer is a wholesale account.
WHOLESALE_MEDIAN_ORDER = 1000.0
#: Every how many-th customer id the tiny shop takes.
TINY_STEP = 73
COUNTRY = "Germany"


def main() -> None:
    lines = pd.read_csv(SOURCE, dtype=str, keep_default_na=False)
    customers = lines[lines["CustomerID"] != ""]
    quantity = customers["Quantity"].astype(float)
    price = customers["UnitPrice"].astype(float)
    kept = ~customers["InvoiceNo"].str.startswith("C") & (quantity > 0) & (price > 0)
    order = (quantity * price)[kept].groupby(
        [customers.loc[kept, "CustomerID"], customers.loc[kept, "InvoiceNo"]]
    )
    median_order = order.sum().groupby(level=0).median()
    picks = {
        "wholesale_heavy.xlsx": set(
            median_order[median_order > WHOLESALE_MEDIAN_ORDER].index
        ),
        "sixty_customers.csv": set(
            sorted(customers["CustomerID"].unique())[::TINY_STEP]
        ),
        "one_country.csv": set(
            customers.loc[customers["Country"] == COUNTRY, "CustomerID"]
        ),
    }
    OUT.mkdir(exist_ok=True)
    for name, ids in picks.items():
        rows = customers.loc[customers["CustomerID"].isin(ids), COLUMNS]
        path = OUT / name
        if name.endswith(".xlsx"):
            typed = rows.assign(
                Quantity=rows["Quantity"].astype(int),
                UnitPrice=rows["UnitPrice"].astype(float),
                InvoiceDate=pd.to_datetime(rows["InvoiceDate"]),
                CustomerID=rows["CustomerID"].astype(float).astype(int),
            )
            typed.to_excel(path, index=False, sheet_name="Online Retail")
        else:
            rows.to_csv(path, index=False)
        print(f"{name}: {len(ids)} customers, {len(rows)} lines")


if __name__ == "__main__":
    main()
