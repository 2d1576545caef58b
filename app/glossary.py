"""Plain-word help for every metric the page shows (hover texts and help lines).

Definitions follow DESIGN section 5 (customer features) and the usual sources of
the k diagnostics: inertia (within-cluster sum of squares, the k-means
objective), silhouette (Rousseeuw 1987), Davies–Bouldin (Davies & Bouldin 1979)
and Calinski–Harabasz (Calinski & Harabasz 1974), as computed by scikit-learn, and
stability (mean adjusted Rand index across seeds, Hubert & Arabie 1985).
"""

from __future__ import annotations

from app import theme
from app.figures import scatter_points
from segmentation import schema

#: Plain display names of the customer columns, for axis titles, hovers, cards
#: and the selected-customers table (the files and the API keep the schema's
#: ``snake_case`` names). Amounts are "in the file's currency".
DISPLAY_NAMES: dict[str, str] = {
    schema.CUSTOMER_ID: "Customer",
    schema.VALUE_CLUSTER: "Value tier",
    schema.VALUE_TIER: "Value tier",
    schema.CUSTOMER_STATUS: "Status",
    schema.PERSONA: "Persona",
    schema.PURCHASE_STYLE: "Purchase style",
    schema.STYLE_REASON: "Why this style",
    schema.RECENCY_DAYS: "Days since last order",
    schema.FREQUENCY: "Orders",
    schema.MONETARY: "Total spent",
    schema.GROSS_MONETARY: "Spent before returns",
    schema.RETURNED_VALUE: "Value returned",
    schema.TENURE_DAYS: "Days since first order",
    schema.AVG_ORDER_VALUE: "Average order value",
    schema.AVG_ITEMS_PER_ORDER: "Units per order",
    schema.AVG_LINE_QUANTITY: "Units per line",
    schema.MAX_LINE_QUANTITY: "Largest line (units)",
    schema.DISTINCT_PRODUCTS: "Different products",
    schema.RETURN_RATE: "Return rate",
    schema.LARGEST_ORDER_RATIO: "Largest order vs usual",
    schema.ORDER_VALUE_CV: "Order value spread",
    schema.R_SCORE: "R score",
    schema.F_SCORE: "F score",
    schema.M_SCORE: "M score",
    schema.RFM_SEGMENT: "RFM segment",
    schema.P_ALIVE: "Chance still active",
    schema.EXPECTED_SPEND_PER_ORDER: "Expected spend per order",
}


def display_name(column: str) -> str:
    """Return a column's plain label: ``"recency_days" -> "Days since last order"``.

    A column :data:`DISPLAY_NAMES` does not know gets its name with spaces and a
    capital first letter (``"first_seen" -> "First seen"``).
    """
    known = DISPLAY_NAMES.get(column)
    if known:
        return known
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


#: The customer columns that are amounts of money (their labels and hovers
#: carry the page's currency symbol).
MONEY_COLUMNS: frozenset[str] = frozenset(
    {
        schema.MONETARY,
        schema.GROSS_MONETARY,
        schema.RETURNED_VALUE,
        schema.AVG_ORDER_VALUE,
        schema.EXPECTED_SPEND_PER_ORDER,
    }
)
#: Units said after a column's display name where the name alone does not.
UNITS: dict[str, str] = {
    schema.RETURN_RATE: "0 to 1",
}


def feature_label(column: str, currency: str | None = None) -> str:
    """Return a column's display name with its unit: ``"Total spent (£)"``.

    Money columns (:data:`MONEY_COLUMNS`) take the currency symbol
    (:func:`app.theme.money_label`; None: the server's default, ``""``: none);
    :data:`UNITS` adds the rest (``"Return rate (0 to 1)"``).
    """
    name = display_name(column)
    if column in MONEY_COLUMNS:
        return theme.money_label(name, currency)
    unit = UNITS.get(column)
    return f"{name} ({unit})" if unit else name


#: One short sentence per customer feature, for hovers and the selected table;
#: each starts with the feature's display name (:data:`DISPLAY_NAMES`).
FEATURE_HELP: dict[str, str] = {
    schema.RECENCY_DAYS: "Days since last order (fewer = bought more recently)",
    schema.FREQUENCY: "Orders: number of orders (invoices)",
    schema.MONETARY: "Total spent: all orders, returns deducted",
    schema.AVG_ORDER_VALUE: "Average order value: total spent / orders",
    schema.AVG_ITEMS_PER_ORDER: "Units per order: average units bought per order",
    schema.AVG_LINE_QUANTITY: "Units per line: average units per invoice line",
    schema.DISTINCT_PRODUCTS: "Different products: number of different products bought",
    schema.RETURN_RATE: ("Return rate: share of value cancelled or returned (0 to 1)"),
    schema.TENURE_DAYS: "Days since first order: how long the customer has bought",
}

#: The usual gaps after which a customer is Cooling, then Lapsed, and the
#: shortest usual gap in days (the engine's ``RecencyStatus``, whose constants
#: are private to it; a test checks these against them).
STATUS_GAPS: tuple[float, float] = (2.0, 4.0)
STATUS_MIN_GAP_DAYS = 7.0

#: One short sentence per label column of the selected-customers table.
LABEL_HELP: dict[str, str] = {
    schema.CUSTOMER_ID: "customer id, as in the file",
    schema.VALUE_TIER: (
        "value tier: a group of customers by orders and total spent, ranked "
        "from the lowest to the highest value"
    ),
    schema.CUSTOMER_STATUS: (
        "status: days since the last order against the customer's usual gap "
        "between orders (first to last order over the gaps; for one order, the "
        "median usual gap of repeat customers; at least "
        f"{STATUS_MIN_GAP_DAYS:g} days): Active up to "
        f"{STATUS_GAPS[0]:g} usual gaps, Cooling up to {STATUS_GAPS[1]:g}, "
        "Lapsed beyond"
    ),
    schema.PERSONA: "persona: named from its value tier × status group's medians",
    schema.PURCHASE_STYLE: (
        "purchase style: Regular, Bulk (typically buys in large quantities) or "
        "Anomaly (irregular buying: returns, spikes, erratic order values)"
    ),
    schema.STYLE_REASON: "why a customer is Bulk or Anomaly",
}

#: Plain words for each k diagnostic (subplot hover and the help line).
DIAGNOSTIC_HELP: dict[str, str] = {
    "inertia": (
        "inertia: total squared distance of customers to their tier's "
        "centre; always falls as k grows, look for the bend (elbow)"
    ),
    "silhouette": (
        "silhouette: how much closer customers are to their own tier "
        "than to the next one, from -1 to 1; higher is better"
    ),
    "davies_bouldin": (
        "Davies–Bouldin: how much tiers overlap compared with how "
        "far apart they are; lower is better"
    ),
    "calinski_harabasz": (
        "Calinski–Harabasz: spread between tiers divided by "
        "spread within them; higher is better"
    ),
    "stability": (
        "stability: how alike the tiers are when k-means starts from 5 different "
        "random seeds (mean adjusted Rand index, 1 = identical); higher is better"
    ),
}

#: Help lines shown under panels.
DIAGNOSTICS_NOTE = (
    "Each curve scores one k of the sweep. Inertia: spread inside tiers (look for "
    "the elbow). Silhouette: separation of tiers, -1..1, higher is better. "
    "Davies–Bouldin: overlap of tiers, lower is better. Calinski–Harabasz: spread "
    "between vs within tiers, higher is better. Stability: agreement of k-means "
    "runs from different seeds, 0..1. Each measure votes for its best k (ringed; "
    "the knee of the inertia, the smallest k within 0.01 of the best stability) "
    "and the k with most votes is recommended (NbClust's majority rule); a tie "
    "goes to the more stable k. Dashed green = recommended k, black = chosen k."
)
PROFILE_NOTE = (
    "Colour: how far a tier's mean is from the mean of all customers, in standard "
    "deviations (red above, blue below). Hover a cell for its mean and its "
    "meaning."
)
GRID_NOTE = (
    "Value tier (groups by orders and total spent) × purchase style "
    "(Regular, Bulk = big baskets, Anomaly = unusual buying). Click a cell to "
    "select its customers; hover for the cell's business label."
)
RF_GRID_NOTE = (
    "Each customer scored 1..5 on recency (R: 5 = bought most recently) and on "
    "frequency (F: 5 = most orders), by quintiles. The 25 cells fall into 10 RFM "
    "segments (outlined, named at the top of their block), e.g. Champions = R5 "
    "with F4-5, Hibernating = R1-2 with F1-2. Click a cell to select its customers."
)
SCATTER_NOTE = (
    "One point per customer: orders across, total spent up (both on log "
    "scales). Colour = value tier, symbol = purchase style. Beyond "
    f"{scatter_points.MAX_POINTS:,} customers it draws a fixed sample: each tier × "
    "style cell in proportion, and at least "
    f"{scatter_points.MIN_PER_CELL} customers (or the whole cell); a box or lasso "
    "still selects every customer inside it."
)


def feature_help(feature: str) -> str:
    """Return the plain-word meaning of a feature column.

    Its display name (:func:`display_name`) for a column :data:`FEATURE_HELP`
    does not know.
    """
    return FEATURE_HELP.get(feature) or display_name(feature)


def column_help(column: str) -> str:
    """Return the plain-word meaning of a customer column, feature or label.

    Its display name for a column neither :data:`FEATURE_HELP` nor
    :data:`LABEL_HELP` knows.
    """
    return LABEL_HELP.get(column) or feature_help(column)
