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
TENURE_DAYS = "tenure_days"
AVG_ORDER_VALUE = "avg_order_value"
AVG_ITEMS_PER_ORDER = "avg_items_per_order"
AVG_LINE_QUANTITY = "avg_line_quantity"
MAX_LINE_QUANTITY = "max_line_quantity"
DISTINCT_PRODUCTS = "distinct_products"
RETURN_RATE = "return_rate"
R_SCORE = "r_score"
F_SCORE = "f_score"
M_SCORE = "m_score"
RFM_SEGMENT = "rfm_segment"

FEATURE_COLUMNS: tuple[str, ...] = (
    RECENCY_DAYS,
    FREQUENCY,
    MONETARY,
    TENURE_DAYS,
    AVG_ORDER_VALUE,
    AVG_ITEMS_PER_ORDER,
    AVG_LINE_QUANTITY,
    MAX_LINE_QUANTITY,
    DISTINCT_PRODUCTS,
    RETURN_RATE,
    R_SCORE,
    F_SCORE,
    M_SCORE,
    RFM_SEGMENT,
)
#: Inputs of the value-tier k-means (DESIGN section 6).
RFM_COLUMNS: tuple[str, ...] = (RECENCY_DAYS, FREQUENCY, MONETARY)
#: Behaviour features used for purchase style (Bulk rule, Anomaly forest).
BEHAVIOUR_COLUMNS: tuple[str, ...] = (
    FREQUENCY,
    MONETARY,
    AVG_ORDER_VALUE,
    AVG_ITEMS_PER_ORDER,
    AVG_LINE_QUANTITY,
    MAX_LINE_QUANTITY,
    DISTINCT_PRODUCTS,
    RETURN_RATE,
)

# Labels (DESIGN sections 6 and 8) --------------------------------------------------
VALUE_CLUSTER = "value_cluster"
VALUE_TIER = "value_tier"
PERSONA = "persona"
PURCHASE_STYLE = "purchase_style"
STYLE_REASON = "style_reason"
SEGMENT = "segment"
GRID_LABEL = "grid_label"

LABEL_COLUMNS: tuple[str, ...] = (
    VALUE_CLUSTER,
    VALUE_TIER,
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
