"""Canonical column names, header synonyms and output column orders.

Every module of :mod:`segmentation` speaks these names; the mapping from a file's
own headers to them is made once, in :mod:`segmentation.io`.
"""

from __future__ import annotations

import re

# Canonical invoice-line columns (DESIGN section 3) --------------------------------
INVOICE_ID = "invoice_id"
CUSTOMER_ID = "customer_id"
INVOICE_DATE = "invoice_date"
QUANTITY = "quantity"
UNIT_PRICE = "unit_price"
AMOUNT = "amount"
STOCK_CODE = "stock_code"
DESCRIPTION = "description"
COUNTRY = "country"
#: The order or line status (e.g. Complete, Cancelled, Refunded): optional.
STATUS = "status"
#: Added by cleaning: ``quantity * unit_price``, or ``amount`` where the file has
#: a line total instead of a price. In the file's currency.
LINE_TOTAL = "line_total"

CANONICAL_COLUMNS: tuple[str, ...] = (
    INVOICE_ID,
    CUSTOMER_ID,
    INVOICE_DATE,
    QUANTITY,
    UNIT_PRICE,
    AMOUNT,
    STOCK_CODE,
    DESCRIPTION,
    COUNTRY,
    STATUS,
)
#: Columns a file must provide (``unit_price`` or ``amount`` is checked apart).
REQUIRED_COLUMNS: tuple[str, ...] = (CUSTOMER_ID, INVOICE_DATE)
#: At least one of these gives the line's value.
VALUE_COLUMNS: tuple[str, ...] = (UNIT_PRICE, AMOUNT)

#: Header synonyms, compared after :func:`normalize_header`.
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    INVOICE_ID: (
        "invoiceno",
        "invoice",
        "invoiceid",
        "invoicenumber",
        "orderid",
        "order",
        "ordernumber",
        "orderno",
        "transactionid",
        "transaction",
        "receipt",
        "receiptno",
        "billno",
        "name",
        "rechnungsnr",
        "rechnungsnummer",
        "bestellnr",
        "bestellnummer",
    ),
    CUSTOMER_ID: (
        "customerid",
        "customer",
        "clientid",
        "client",
        "customerno",
        "customernumber",
        "customeremail",
        "email",
        "buyer",
        "buyerid",
        "memberid",
        "accountid",
        "custid",
        "kundennummer",
        "kundennr",
        "kunde",
    ),
    INVOICE_DATE: (
        "invoicedate",
        "date",
        "orderdate",
        "createdat",
        "timestamp",
        "datetime",
        "transactiondate",
        "purchasedate",
        "saledate",
        "invoicedatetime",
        "paidat",
        "orderpurchasetimestamp",
        "purchasetimestamp",
        "orderdatetime",
        "rechnungsdatum",
        "bestelldatum",
        "datum",
    ),
    QUANTITY: (
        "quantity",
        "qty",
        "units",
        "unitssold",
        "lineitemquantity",
        "count",
        "menge",
        "anzahl",
    ),
    UNIT_PRICE: (
        "unitprice",
        "price",
        "priceeach",
        "itemprice",
        "lineitemprice",
        "rate",
        "unitcost",
        "einzelpreis",
        "preis",
    ),
    AMOUNT: (
        "amount",
        "total",
        "sales",
        "revenue",
        "linetotal",
        "lineamount",
        "totalprice",
        "subtotal",
        "value",
        "netsales",
        "lineitemtotal",
        "betrag",
        "gesamtpreis",
        "umsatz",
    ),
    STOCK_CODE: (
        "stockcode",
        "sku",
        "productid",
        "productcode",
        "itemcode",
        "itemid",
        "lineitemsku",
        "article",
        "articleno",
        "artikelnr",
        "artikelnummer",
    ),
    DESCRIPTION: (
        "description",
        "product",
        "productname",
        "item",
        "itemname",
        "lineitemname",
        "title",
        "bezeichnung",
        "artikelbezeichnung",
    ),
    COUNTRY: (
        "country",
        "billingcountry",
        "shippingcountry",
        "countrycode",
        "region",
        "land",
    ),
    STATUS: (
        "status",
        "orderstatus",
        "financialstatus",
        "fulfillmentstatus",
        "paymentstatus",
        "linestatus",
        "transactionstatus",
    ),
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def normalize_header(header: object) -> str:
    """Return a header reduced to lower-case letters and digits.

    Parameters
    ----------
    header : object
        A column header as read from a file (any type).

    Returns
    -------
    str
        ``"Customer ID"``, ``"customer_id"`` and ``" CustomerID "`` all give
        ``"customerid"``.
    """
    return _NON_ALNUM.sub("", str(header).strip().lower())


# Customer feature columns (DESIGN section 5) ---------------------------------------
RECENCY_DAYS = "recency_days"
FREQUENCY = "frequency"
MONETARY = "monetary"
GROSS_MONETARY = "gross_monetary"
RETURNED_VALUE = "returned_value"
TENURE_DAYS = "tenure_days"
AVG_ORDER_VALUE = "avg_order_value"
AVG_ITEMS_PER_ORDER = "avg_items_per_order"
AVG_LINE_QUANTITY = "avg_line_quantity"
MAX_LINE_QUANTITY = "max_line_quantity"
DISTINCT_PRODUCTS = "distinct_products"
RETURN_RATE = "return_rate"
LARGEST_ORDER_RATIO = "largest_order_ratio"
ORDER_VALUE_CV = "order_value_cv"
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
RFM_SEGMENT = "rfm_segment"

FEATURE_COLUMNS: tuple[str, ...] = (
    RECENCY_DAYS,
    FREQUENCY,
    MONETARY,
    GROSS_MONETARY,
    RETURNED_VALUE,
    TENURE_DAYS,
    AVG_ORDER_VALUE,
    AVG_ITEMS_PER_ORDER,
    AVG_LINE_QUANTITY,
    MAX_LINE_QUANTITY,
    DISTINCT_PRODUCTS,
    RETURN_RATE,
    LARGEST_ORDER_RATIO,
    ORDER_VALUE_CV,
    R_SCORE,
    F_SCORE,
    M_SCORE,
    RFM_SEGMENT,
)
#: Recency, frequency, monetary: the RFM scores and the API's required fields.
RFM_COLUMNS: tuple[str, ...] = (RECENCY_DAYS, FREQUENCY, MONETARY)
#: Inputs of the value tiers and the k sweep (DESIGN section 6): value only.
#: Recency is a status, not a value: it is not clustered.
VALUE_FEATURES: tuple[str, ...] = (FREQUENCY, MONETARY)
#: Column of the cleaning step's returns table: True for a positive line whose
#: status says it came back (bought and returned at once).
RETURNED_PURCHASE = "returned_purchase"
#: Money columns (the file's currency): written with their cents, never in
#: scientific notation (DESIGN section 8).
MONEY_COLUMNS: tuple[str, ...] = (
    MONETARY,
    GROSS_MONETARY,
    RETURNED_VALUE,
    AVG_ORDER_VALUE,
)
#: Behaviour features that need a quantity column (empty without one).
QUANTITY_FEATURES: tuple[str, ...] = (
    AVG_ITEMS_PER_ORDER,
    AVG_LINE_QUANTITY,
    MAX_LINE_QUANTITY,
)
#: Behaviour features of purchase style: Bulk's units per line, and Anomaly's
#: irregularity.
#: Irregular buying, scale-free (DESIGN section 6): the Anomaly forest reads only
#: these, so that being big is never enough to be an Anomaly.
ANOMALY_COLUMNS: tuple[str, ...] = (RETURN_RATE, LARGEST_ORDER_RATIO, ORDER_VALUE_CV)
BEHAVIOUR_COLUMNS: tuple[str, ...] = (AVG_LINE_QUANTITY, *ANOMALY_COLUMNS)

# Labels (DESIGN sections 6 and 8) --------------------------------------------------
VALUE_CLUSTER = "value_cluster"
VALUE_TIER = "value_tier"
#: How current a customer is (Active / Cooling / Lapsed), from recency against
#: their own rhythm. Not the order ``status`` column of an export (:data:`STATUS`).
CUSTOMER_STATUS = "status"
PERSONA = "persona"
PURCHASE_STYLE = "purchase_style"
STYLE_REASON = "style_reason"
SEGMENT = "segment"
GRID_LABEL = "grid_label"

LABEL_COLUMNS: tuple[str, ...] = (
    VALUE_CLUSTER,
    VALUE_TIER,
    CUSTOMER_STATUS,
    PERSONA,
    PURCHASE_STYLE,
    STYLE_REASON,
    SEGMENT,
    GRID_LABEL,
)
#: Column order of the labelled customer CSV (DESIGN section 8).
OUTPUT_COLUMNS: tuple[str, ...] = (CUSTOMER_ID, *FEATURE_COLUMNS, *LABEL_COLUMNS)

REGULAR = "Regular"
BULK = "Bulk"
ANOMALY = "Anomaly"
PURCHASE_STYLES: tuple[str, ...] = (REGULAR, BULK, ANOMALY)

# Customers over time (DESIGN section 10) ---------------------------------------
#: Probability that the customer is still active at as_of (BG/NBD), 0..1.
P_ALIVE = "p_alive"
#: Expected spend per future order (Gamma-Gamma), the file's currency.
EXPECTED_SPEND_PER_ORDER = "expected_spend_per_order"
#: Tier and status of each customer at as_of - N days (migration).
VALUE_TIER_BEFORE = "value_tier_before"
STATUS_BEFORE = "status_before"
#: ``value_tier_before`` and ``status_before`` of a customer whose first kept
#: purchase is on or after as_of - N days (segmentation.migration).
NOT_YET_A_CUSTOMER = "Not yet a customer"


def expected_orders_column(days: int) -> str:
    """Return the column of expected orders in ``days`` days (expected_orders_90d)."""
    return f"expected_orders_{int(days)}d"


def clv_column(days: int) -> str:
    """Return the column of discounted revenue over ``days`` days: ``clv_365d``."""
    return f"clv_{int(days)}d"


def is_lifetime_column(column: str) -> bool:
    """Return True for a lifetime or migration column.

    Those are written after :data:`OUTPUT_COLUMNS` when a run has them.
    """
    return column in (
        P_ALIVE,
        EXPECTED_SPEND_PER_ORDER,
        VALUE_TIER_BEFORE,
        STATUS_BEFORE,
    ) or bool(re.fullmatch(r"(expected_orders|clv)_\d+d", column))


def is_money_column(column: str) -> bool:
    """Return True for a column in the file's currency (written with cents)."""
    return (
        column in MONEY_COLUMNS
        or column == EXPECTED_SPEND_PER_ORDER
        or bool(re.fullmatch(r"clv_\d+d", column))
    )
