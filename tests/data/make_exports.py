"""Build tests/data/exports/: real Online Retail I rows shaped as other shops' exports.

Run from anywhere: ``python tests/data/make_exports.py``. Deterministic and
re-runnable: it reads ``../shared/data/online_retail_I.csv`` (next to the repo),
picks hard-coded real customers with ALL their real lines (in file order), writes
the twelve files, then counts every file's buckets with the independent reference
``tests/exports_reference.py`` and writes ``exports/README.md``. It never writes
``exports/expected_rfm.csv`` (hand-computed values, kept as written).

Nothing here is random: ids derived from real numbers are md5 hashes of them.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests/: the independent reference
import exports_reference as ref  # noqa: E402

OUT = HERE / "exports"
SOURCE = Path(__file__).resolve().parents[3] / "shared" / "data" / "online_retail_I.csv"
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
#: The data README's non-product codes: the reference's list, one place.
NON_PRODUCT = ref.NON_PRODUCT_CODES

# ----------------------------------------------------------------- the picks
# Real UCI customer ids per file (all their lines), and a few real invoices.
PICKS = {
    "office_prefixed_ids.csv": [
        12386,
        12450,
        12798,
        12871,
        12875,
        12891,
        12897,
        13003,
        13029,
        13058,
        13068,
        13133,
        13147,
        13207,
        14147,
    ],
    "hex_order_ids.csv": [
        13223,
        13283,
        13299,
        13452,
        13525,
        13754,
        13848,
        14045,
        14053,
        14463,
        14473,
        14495,
        14500,
    ],
    "yyyymmdd_log.txt": [
        12829,
        12990,
        13169,
        13261,
        13321,
        13404,
        13434,
        13470,
        13669,
        13718,
        13960,
        14195,
        14354,
        14377,
    ],
    "status_column.csv": [
        12879,
        12888,
        13145,
        13217,
        13420,
        13587,
        13666,
        13929,
        13946,
        13962,
        14111,
        14768,
    ],
    "german_headers.csv": [
        12519,
        12715,
        13573,
        13837,
        14089,
        14332,
        14476,
        14555,
        17134,
        17349,
        17889,
    ],
    "footer_rows.csv": [
        12361,
        12401,
        12445,
        12547,
        13239,
        14520,
        14548,
        14551,
        14609,
        14616,
        14624,
        14681,
    ],
    "footer_rows.xlsx": [
        12402,
        12430,
        12441,
        12522,
        14682,
        14785,
        14798,
        14819,
        14836,
        14882,
        14947,
        14987,
    ],
    "ambiguous_dates.csv": [
        12929,
        16424,
        13711,
        14761,
        14865,
        15198,
        15257,
        15330,
        15526,
        15612,
        15649,
        16405,
        16634,
        16792,
        16835,
        17025,
        17026,
    ],
    "leading_zeros.xlsx": [
        12367,
        12489,
        12588,
        15030,
        15139,
        15199,
        15206,
        15267,
        15355,
        15381,
        15393,
        15422,
    ],
    "uci_returns.csv": [
        13856,
        14264,
        14792,
        15224,
        15462,
        15512,
        15565,
        15587,
        15598,
        16446,
        17548,
    ],
    "dd_mm_yyyy_dashes.csv": [
        12358,
        15653,
        15661,
        15689,
        15732,
        15759,
        16041,
        16189,
        16226,
        16308,
        16414,
        16427,
        16519,
    ],
}
# the log files share their rows (same customers, same lines)
PICKS["yyyymmdd_header.csv"] = PICKS["yyyymmdd_log.txt"]
#: real invoices WITHOUT a customer id, added whole
NO_CUSTOMER_INVOICES = {"status_column.csv": ["537621"], "uci_returns.csv": ["536780"]}
#: real invoices given the status Cancelled / canceled (whole orders)
CANCELLED_INVOICES = {
    "status_column.csv": ["545012", "554087", "549353"],
    "hex_order_ids.csv": ["546752", "537841", "540258", "553701"],
}
#: rows repeated whole (true duplicates) at the end of the German file:
#: (invoice, Positionsnr)
GERMAN_REPEATS = [("570007", 3), ("569513", 5)]


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def load_source() -> pd.DataFrame:
    if not SOURCE.exists():
        sys.exit(f"error: {SOURCE} not found (the real data lives in ../shared/data)")
    src = pd.read_csv(SOURCE, dtype=str, keep_default_na=False)
    assert list(src.columns) == UCI
    return src


def lines_of(src: pd.DataFrame, customers: list[int]) -> pd.DataFrame:
    wanted = {f"{c}.0" for c in customers}
    rows = src[src["CustomerID"].isin(wanted)].copy()
    found = set(rows["CustomerID"])
    assert found == wanted, f"customers not in the data: {sorted(wanted - found)}"
    return rows


def invoices(src: pd.DataFrame, numbers: list[str]) -> pd.DataFrame:
    rows = src[src["InvoiceNo"].isin(numbers)].copy()
    assert set(rows["InvoiceNo"]) == set(numbers)
    return rows


def ts(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")


def write_csv(name: str, header: list[str] | None, rows: list[list], **kw) -> None:
    with open(OUT / name, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n", **kw)
        if header:
            writer.writerow(header)
        writer.writerows(rows)


def is_product(code: str) -> bool:
    return code.upper() not in NON_PRODUCT and not code.lower().startswith("gift_")


# ----------------------------------------------------------------- 1 office
FIRST = [
    "Claire",
    "Darrin",
    "Sean",
    "Brosina",
    "Andrew",
    "Irene",
    "Harold",
    "Pete",
    "Alejandro",
    "Zuschuss",
    "Ken",
    "Sandra",
    "Emily",
    "Eric",
    "Tracy",
]
LAST = [
    "Gute",
    "Van Huff",
    "O'Donnell",
    "Hoffman",
    "Allen",
    "Maddox",
    "Pawlan",
    "Kriz",
    "Grove",
    "Donatelli",
    "Black",
    "Flanagan",
    "Burns",
    "Hoffmann",
    "Blumstein",
]


def office_order_id(invoice: str, when: datetime) -> str:
    number = invoice.lstrip("C")
    prefix = "CA" if int(number) % 2 == 0 else "US"
    return f"{prefix}-{when.year}-{number}"


def office_customers(customers: list[int]) -> dict[str, tuple[str, str]]:
    out = {}
    for i, c in enumerate(sorted(customers)):
        name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
        initials = "".join(part[0] for part in name.split()[:2]).upper()
        out[f"{c}.0"] = (f"{initials}-{c}", name)
    return out


def mdy(when: datetime) -> str:
    return f"{when.month}/{when.day}/{when.year}"


def build_office(src: pd.DataFrame) -> dict:
    name = "office_prefixed_ids.csv"
    rows = lines_of(src, PICKS[name])
    ids = office_customers(PICKS[name])
    out = []
    for i, r in enumerate(rows.itertuples(index=False), start=1):
        when = ts(r.InvoiceDate)
        q, p = int(r.Quantity), float(r.UnitPrice)
        sales = round(q * p, 2)
        number = int(r.InvoiceNo.lstrip("C"))
        ship = when + timedelta(days=2 + number % 4)
        cid, cname = ids[r.CustomerID]
        out.append(
            [
                i,
                office_order_id(r.InvoiceNo, when),
                mdy(when),
                mdy(ship),
                cid,
                cname,
                f"OFF-SU-{r.StockCode}",
                f"{sales:.2f}",
                q,
                0,
                f"{sales * 0.25:.4f}",
            ]
        )
    assert any(ts(d).day > 12 for d in rows["InvoiceDate"])
    write_csv(
        name,
        [
            "Row ID",
            "Order ID",
            "Order Date",
            "Ship Date",
            "Customer ID",
            "Customer Name",
            "Product ID",
            "Sales",
            "Quantity",
            "Discount",
            "Profit",
        ],
        out,
    )
    return {
        "ids": ids,
        "orders": {
            inv: office_order_id(inv, ts(d))
            for inv, d in zip(rows["InvoiceNo"], rows["InvoiceDate"])
        },
    }


# ----------------------------------------------------------------- 2 hex
def hex_order_id(invoice: str, index: int) -> str:
    h = md5(f"order:{invoice}")
    return "c" + h[1:] if index % 3 == 0 else h  # every third order id starts with c


def build_hex(src: pd.DataFrame) -> dict:
    name = "hex_order_ids.csv"
    rows = lines_of(src, PICKS[name])
    assert not rows["InvoiceNo"].str.startswith("C").any()
    order_ids = {
        inv: hex_order_id(inv, i)
        for i, inv in enumerate(sorted(rows["InvoiceNo"].unique()))
    }
    assert len(set(order_ids.values())) == len(order_ids)
    cancelled = set(CANCELLED_INVOICES[name])
    assert cancelled <= set(order_ids)
    out, item = [], {}
    for r in rows.itertuples(index=False):
        for _ in range(min(int(r.Quantity), 3)):
            item[r.InvoiceNo] = item.get(r.InvoiceNo, 0) + 1
            out.append(
                [
                    order_ids[r.InvoiceNo],
                    item[r.InvoiceNo],
                    md5(f"product:{r.StockCode}"),
                    f"{float(r.UnitPrice):.2f}",
                    r.InvoiceDate,
                    md5(f"order-customer:{r.InvoiceNo}"),
                    md5(f"customer:{r.CustomerID[:-2]}"),
                    "canceled" if r.InvoiceNo in cancelled else "delivered",
                ]
            )
    write_csv(
        name,
        [
            "order_id",
            "order_item_id",
            "product_id",
            "price",
            "order_purchase_timestamp",
            "customer_id",
            "customer_unique_id",
            "order_status",
        ],
        out,
    )
    return {
        "orders": order_ids,
        "buyers": {c: md5(f"customer:{c}") for c in sorted(PICKS[name])},
    }


# ----------------------------------------------------------------- 3, 4 logs
def log_rows(src: pd.DataFrame) -> tuple[list[list], dict]:
    customers = sorted(PICKS["yyyymmdd_log.txt"])
    ids = {f"{c}.0": f"{i:05d}" for i, c in enumerate(customers, start=1)}
    rows = lines_of(src, customers)
    assert rows["StockCode"].map(is_product).all()
    rows = rows.assign(
        _cid=rows["CustomerID"].map(ids),
        _when=rows["InvoiceDate"],
        _order=range(len(rows)),
    )
    rows = rows.sort_values(["_cid", "_when", "_order"], kind="stable")
    out = []
    for r in rows.itertuples(index=False):
        q, p = int(r.Quantity), float(r.UnitPrice)
        out.append([r._8, r.InvoiceDate[:10].replace("-", ""), q, f"{q * p:.2f}"])
    keys = [tuple(x) for x in out]
    assert len(keys) > len(set(keys)), "need identical same-day lines"
    return out, ids


def build_logs(src: pd.DataFrame) -> dict:
    out, ids = log_rows(src)
    with open(OUT / "yyyymmdd_log.txt", "w", encoding="utf-8") as handle:
        for cid, day, q, amount in out:
            handle.write(f"{cid} {day} {q} {amount}\n")
    write_csv("yyyymmdd_header.csv", ["customer_id", "date", "quantity", "amount"], out)
    same = pd.DataFrame(out).duplicated(keep=False).sum()
    return {"ids": ids, "identical_lines": int(same)}


# ----------------------------------------------------------------- 5 status
def build_status(src: pd.DataFrame) -> dict:
    name = "status_column.csv"
    rows = pd.concat(
        [lines_of(src, PICKS[name]), invoices(src, NO_CUSTOMER_INVOICES[name])]
    ).sort_index()
    cancelled = set(CANCELLED_INVOICES[name])
    c_invoices = sorted(
        rows.loc[rows["InvoiceNo"].str.startswith("C"), "InvoiceNo"].unique()
    )
    returned = {
        inv: ("Refunded" if i % 2 == 0 else "Returned")
        for i, inv in enumerate(c_invoices)
    }
    assert (
        rows.loc[rows["InvoiceNo"].isin(c_invoices), "Quantity"].astype(int) < 0
    ).all()
    out = []
    for r in rows.itertuples(index=False):
        status = (
            "Cancelled"
            if r.InvoiceNo in cancelled
            else returned.get(r.InvoiceNo, "Complete")
        )
        out.append([*r, status])
    write_csv(name, [*UCI, "Status"], out)
    return {"returned": returned}


# ----------------------------------------------------------------- 6 german
LAND = {
    "United Kingdom": "Vereinigtes Königreich",
    "Germany": "Deutschland",
    "Sweden": "Schweden",
    "France": "Frankreich",
}


def comma(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))
    return text.replace(".", ",")


def build_german(src: pd.DataFrame) -> dict:
    name = "german_headers.csv"
    rows = lines_of(src, PICKS[name])
    out, position = [], {}
    for r in rows.itertuples(index=False):
        position[r.InvoiceNo] = position.get(r.InvoiceNo, 0) + 1
        when = ts(r.InvoiceDate)
        out.append(
            [
                r.InvoiceNo,
                r.StockCode,
                position[r.InvoiceNo],
                r.Description,
                r.Quantity,
                when.strftime("%d.%m.%Y %H:%M"),
                comma(float(r.UnitPrice)),
                r.CustomerID[:-2],
                LAND.get(r.Country, r.Country),
            ]
        )
    pairs = rows.duplicated(keep="first").sum()
    for invoice, pos in GERMAN_REPEATS:
        match = [row for row in out if row[0] == invoice and row[2] == pos]
        assert len(match) == 1
        out.append(list(match[0]))
    write_csv(
        name,
        [
            "Rechnungsnr",
            "Artikelnr",
            "Positionsnr",
            "Bezeichnung",
            "Menge",
            "Rechnungsdatum",
            "Einzelpreis",
            "Kundennummer",
            "Land",
        ],
        out,
        delimiter=";",
    )
    return {"uci_duplicate_lines": int(pairs)}


# ----------------------------------------------------------------- 7 footer csv
def build_footer_csv(src: pd.DataFrame) -> dict:
    name = "footer_rows.csv"
    rows = lines_of(src, PICKS[name])
    out = rows.to_numpy().tolist()
    q = rows["Quantity"].astype(int)
    value = (q * rows["UnitPrice"].astype(float)).sum()
    last = max(ts(d) for d in rows["InvoiceDate"])
    export_day = (last + timedelta(days=3)).replace(hour=0, minute=0)
    out += [
        ["Subtotal", "", "", int(q.sum()), "", f"{value:.2f}", "", ""],
        [
            "",
            "",
            "Total",
            int(q.sum()),
            export_day.strftime("%Y-%m-%d %H:%M:%S"),
            f"{value:.2f}",
            "Total",
            "",
        ],
        [
            "Grand total",
            "",
            "",
            "",
            export_day.strftime("%Y-%m-%d %H:%M:%S"),
            f"{value:.2f}",
            "",
            "",
        ],
    ]
    write_csv(name, UCI, out)
    return {"footer_value": round(value, 2), "footer_day": str(export_day.date())}


# ----------------------------------------------------------------- 8 / 10 xlsx
def xlsx_value(column: str, text: str):
    if column in ("InvoiceNo", "StockCode"):
        return int(text) if text.isdigit() else text
    if column == "Quantity":
        return int(text)
    if column == "UnitPrice":
        return float(text)
    if column == "InvoiceDate":
        return ts(text)
    if column == "CustomerID":
        return int(float(text)) if text else None
    return text


def write_uci_xlsx(name: str, rows: pd.DataFrame, customer_map=None, footer=False):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Online Retail"
    ws.append(UCI)
    for r in rows.itertuples(index=False):
        values = [xlsx_value(c, v) for c, v in zip(UCI, r)]
        if customer_map:
            values[6] = customer_map[r.CustomerID]
        ws.append(values)
        ws.cell(ws.max_row, 5).number_format = "yyyy-mm-dd hh:mm"
        if customer_map:
            ws.cell(ws.max_row, 7).number_format = "00000"
    last_data = ws.max_row
    if footer:
        ws.append([])  # the blank separator row
        last = max(ts(d) for d in rows["InvoiceDate"])
        ws.append(
            [
                "Subtotal",
                None,
                None,
                f"=SUM(D2:D{last_data})",
                None,
                f"=SUM(F2:F{last_data})",
                None,
                None,
            ]
        )
        ws.append(
            [
                None,
                None,
                "Total",
                f"=SUM(D2:D{last_data})",
                None,
                f"=SUMPRODUCT(D2:D{last_data},F2:F{last_data})",
                "Total",
                None,
            ]
        )
        ws.append(
            [
                "Grand total",
                None,
                None,
                None,
                last.replace(hour=0, minute=0),
                f"=F{last_data + 3}",
                None,
                None,
            ]
        )
        ws.cell(ws.max_row, 5).number_format = "yyyy-mm-dd hh:mm"
    wb.save(OUT / name)
    freeze_workbook(OUT / name)


STAMP = rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"


def freeze_workbook(path: Path) -> None:
    """Make the .xlsx byte-identical run to run: fixed zip times and core dates."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = [(info.filename, z.read(info)) for info in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for filename, data in parts:
            if filename == "docProps/core.xml":
                data = re.sub(STAMP, b"2011-12-10T00:00:00Z", data)
            info = zipfile.ZipInfo(filename, date_time=(2011, 12, 10, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def build_footer_xlsx(src: pd.DataFrame) -> dict:
    rows = lines_of(src, PICKS["footer_rows.xlsx"])
    write_uci_xlsx("footer_rows.xlsx", rows, footer=True)
    return {}


def build_leading_zeros(src: pd.DataFrame) -> dict:
    rows = lines_of(src, PICKS["leading_zeros.xlsx"])
    ids = {f"{c}.0": c - 12300 for c in PICKS["leading_zeros.xlsx"]}
    write_uci_xlsx("leading_zeros.xlsx", rows, customer_map=ids)
    return {"ids": {k: f"{v:05d}" for k, v in ids.items()}}


# ----------------------------------------------------------------- 9, 11, 12 UCI csv
def build_uci_dates(src: pd.DataFrame, name: str, fmt: str) -> dict:
    rows = lines_of(src, PICKS[name])
    rows["InvoiceDate"] = [ts(d).strftime(fmt) for d in rows["InvoiceDate"]]
    write_csv(name, UCI, rows.to_numpy().tolist())
    return {}


def build_ambiguous(src: pd.DataFrame) -> dict:
    name = "ambiguous_dates.csv"
    rows = lines_of(src, PICKS[name])
    assert all(ts(d).day <= 12 for d in rows["InvoiceDate"])
    return build_uci_dates(src, name, "%d/%m/%Y %H:%M")


def build_dashes(src: pd.DataFrame) -> dict:
    name = "dd_mm_yyyy_dashes.csv"
    rows = lines_of(src, PICKS[name])
    assert any(ts(d).day > 12 for d in rows["InvoiceDate"])
    return build_uci_dates(src, name, "%d-%m-%Y %H:%M")


def build_uci_returns(src: pd.DataFrame) -> dict:
    name = "uci_returns.csv"
    rows = pd.concat(
        [lines_of(src, PICKS[name]), invoices(src, NO_CUSTOMER_INVOICES[name])]
    ).sort_index()
    c = rows["InvoiceNo"].str.startswith("C")
    assert (rows.loc[c, "Quantity"].astype(int) < 0).all()  # the file proves the prefix
    write_csv(name, UCI, rows.to_numpy().tolist())
    return {}


# ----------------------------------------------------------------- checks
def check_overlaps() -> dict[str, int]:
    """No data line meets two conditions (other than a footer); return counts."""
    out = {}
    for name, loader in ref.LOADERS.items():
        tidy = loader()
        flags = ref.conditions(tidy)
        data = ~flags["summary_row"]
        multi = flags[data].drop(columns="summary_row").sum(axis=1) > 1
        assert not multi.any(), (
            f"{name}: lines meeting two conditions:\n{tidy[data][multi]}"
        )
        kept = tidy[ref.classify(tidy) == "kept"]
        dated = tidy[data & tidy["invoice_date"].notna()]
        assert (
            dated["invoice_date"].max().normalize()
            == kept["invoice_date"].max().normalize()
        ), name
        out[name] = ref.summary(name)
    return out


BEGIN, END = "<!-- counts:begin (written by make_exports.py) -->", "<!-- counts:end -->"


def counts_section(info: dict, summaries: dict) -> str:
    """The README's generated part: per-file counts and the id mappings."""
    import exports_reference as ref

    buckets = [
        b for b in ref.BUCKETS if any(s["buckets"][b] for s in summaries.values())
    ]
    head = ["file", "lines read", "customers", "as_of", *buckets]
    lines = [BEGIN, "", "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for name, s in summaries.items():
        cells = [
            f"`{name}`",
            s["lines_read"],
            s["customers"],
            s["as_of"],
            *[s["buckets"][b] for b in buckets],
        ]
        lines.append("| " + " | ".join(map(str, cells)) + " |")
    blank = {
        n: s["blank_rows_skipped"]
        for n, s in summaries.items()
        if s["blank_rows_skipped"]
    }
    lines += [
        "",
        f"Fully blank rows skipped by the reader (not lines): {blank or 'none'}.",
        "",
        "Customer id mappings (real UCI id -> id in the file):",
        "",
    ]
    maps = {
        "office_prefixed_ids.csv": {
            k[:-2]: v[0] for k, v in info["office_prefixed_ids.csv"]["ids"].items()
        },
        "hex_order_ids.csv (customer_unique_id)": {
            str(k): v for k, v in info["hex_order_ids.csv"]["buyers"].items()
        },
        "yyyymmdd_log.txt / yyyymmdd_header.csv": {
            k[:-2]: v for k, v in info["yyyymmdd_log.txt"]["ids"].items()
        },
        "leading_zeros.xlsx (stored number -> shown)": {
            k[:-2]: v for k, v in info["leading_zeros.xlsx"]["ids"].items()
        },
    }
    for title, mapping in maps.items():
        lines.append(
            f"- {title}: " + ", ".join(f"{k} -> `{v}`" for k, v in mapping.items())
        )
    orders = info["hex_order_ids.csv"]["orders"]
    lines.append(
        "- hex_order_ids.csv order ids (UCI invoice -> order_id): "
        + ", ".join(f"{k} -> `{v}`" for k, v in orders.items())
    )
    lines += ["", END]
    return "\n".join(lines)


def write_counts(readme: Path, info: dict, summaries: dict) -> None:
    """Replace the generated section of README.md (the prose is hand-written)."""
    section = counts_section(info, summaries)
    text = (
        readme.read_text(encoding="utf-8")
        if readme.exists()
        else f"# exports\n\n{BEGIN}\n{END}\n"
    )
    start, end = text.index(BEGIN), text.index(END) + len(END)
    readme.write_text(text[:start] + section + text[end:], encoding="utf-8")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    src = load_source()
    info = {
        "office_prefixed_ids.csv": build_office(src),
        "hex_order_ids.csv": build_hex(src),
        "yyyymmdd_log.txt": build_logs(src),
        "status_column.csv": build_status(src),
        "german_headers.csv": build_german(src),
        "footer_rows.csv": build_footer_csv(src),
        "footer_rows.xlsx": build_footer_xlsx(src),
        "ambiguous_dates.csv": build_ambiguous(src),
        "leading_zeros.xlsx": build_leading_zeros(src),
        "uci_returns.csv": build_uci_returns(src),
        "dd_mm_yyyy_dashes.csv": build_dashes(src),
    }
    summaries = check_overlaps()
    write_counts(OUT / "README.md", info, summaries)
    for name, s in summaries.items():
        size = (OUT / name).stat().st_size
        nonzero = {k: v for k, v in s["buckets"].items() if v}
        print(
            f"{name:24} {size:6d} B  lines={s['lines_read']} "
            f"customers={s['customers']} "
            f"as_of={s['as_of']} {nonzero}"
        )


if __name__ == "__main__":
    main()
