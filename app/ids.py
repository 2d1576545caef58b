"""Every component id of the page, as a constant.

The ids named in DESIGN section 7 are stable: browser tests and users' bookmarks
of the DOM rely on them. Layout and callbacks both import these constants; no
module spells an id as a literal string. Pattern-matching ids are built by the
functions at the end.
"""

from __future__ import annotations

# Stable ids (DESIGN section 7) ----------------------------------------------------
UPLOAD = "upload"
SAMPLE_BUTTON = "sample-button"
K_SLIDER = "k-slider"
RUN_STATUS = "run-status"
CANCEL_BUTTON = "cancel-button"
CLEANING_RECEIPT = "cleaning-receipt"
VALUE_STYLE_GRID = "value-style-grid"
#: The 5 × 5 R × F score grid with its 10 RFM segments (DESIGN sections 5, 7).
RF_GRID = "rf-grid"
CUSTOMER_SCATTER = "customer-scatter"
FEATURE_HEATMAP = "feature-heatmap"
PERSONA_CARDS = "persona-cards"
#: The persona cards' data (:func:`app.components.personas.persona_card_data`),
#: drawn by the browser (``assets/persona_cards.js``) in :data:`PERSONA_CARDS_HOST`.
PERSONA_CARDS_DATA = "persona-cards-data"
#: The element inside :data:`PERSONA_CARDS` whose children the browser draws
#: (Dash gives it none, so React leaves them alone).
PERSONA_CARDS_HOST = "persona-cards-host"
#: A persona card clicked (or Enter / Space on it): ``{"cluster", "at"}``, set by
#: the browser; the selection callback reads it.
PERSONA_CARD_CLICK = "persona-card-click"
K_DIAGNOSTICS = "k-diagnostics"
SELECTION_SUMMARY = "selection-summary"
CLEAR_SELECTION = "clear-selection"
DOWNLOAD_BUTTON = "download-button"
ERROR_ALERT = "error-alert"

# Further controls and outputs -----------------------------------------------------
ANOMALY_SLIDER = "anomaly-share-slider"
GRID_METRIC = "grid-metric"
RF_GRID_METRIC = "rf-grid-metric"
PROGRESS_BAR = "progress-bar"
PROGRESS_TEXT = "progress-text"
RUN_RESULT = "run-result"
K_RULE = "k-rule"
#: "Use recommended k": sets the k slider to the k sweep's recommended k.
USE_RECOMMENDED_K = "use-recommended-k"
SELECTION_TABLE = "selection-table"
DOWNLOAD_SCOPE = "download-scope"
DOWNLOAD = "download"
REPORT_BUTTON = "report-button"
DOWNLOAD_REPORT = "download-report"
#: "Download report (HTML)": the printable report of the run on screen.
HTML_REPORT_BUTTON = "html-report-button"
DOWNLOAD_HTML_REPORT = "download-html-report"
DATASET_TITLE = "dataset-title"
MAPPING_PANEL = "mapping-panel"
MAPPING_APPLY = "mapping-apply"
MAPPING_FIELDS = "mapping-fields"
#: How the upload is read: "Remove duplicate lines" switch and the date order.
DUPLICATES_SWITCH = "duplicates-switch"
DATE_ORDER = "date-order"
#: The alert above the panels listing every assumption made on the dataset.
ASSUMPTIONS = "assumptions"
ASSUMPTIONS_LIST = "assumptions-list"
SAVE_RUN_BUTTON = "save-run-button"
RUN_SAVED = "run-saved"
RUNS_LIST = "runs-list"
WHATIF_RECENCY = "whatif-recency"
WHATIF_FREQUENCY = "whatif-frequency"
WHATIF_MONETARY = "whatif-monetary"
WHATIF_RESULT = "whatif-result"

#: "Cancel upload": stops a file on its way to the server.
UPLOAD_CANCEL = "upload-cancel"

# Customers over time (DESIGN section 10) -------------------------------------------
#: The panel of churn risk, value ahead, the models' check and tier moves.
OVERTIME_PANEL = "over-time"
#: "Compare with N days earlier" and "Holdout days" (0 = no check).
COMPARE_DAYS = "compare-days"
HOLDOUT_DAYS = "holdout-days"
#: What the panel is computing or why it shows nothing yet.
OVERTIME_STATUS = "over-time-status"
#: The lifetime models in words, or why they are withheld.
LIFETIME_MODEL = "lifetime-model"
#: Per value tier: median p_alive, expected orders, CLV.
LIFETIME_TIERS = "lifetime-tiers"
#: Predicted vs actual orders in the held-out days.
HOLDOUT_GRAPH = "holdout-graph"
#: The value tier moves between the two dates (click a link or node to select).
MIGRATION_SANKEY = "migration-sankey"
#: The moves in words: who moved down, with their revenue.
MIGRATION_TEXT = "migration-text"

# Browser-side stores (small: ids and choices only, never tables) ------------------
#: The file assets/upload.js sent to ``POST /upload``: ``{"upload", "filename",
#: "bytes", "sent"}``; a new value starts the loading job.
UPLOADED_STORE = "uploaded-store"
#: The page address's query (``view``, ``k``, ``sel``), read once at page load.
URL_QUERY = "url-query"
#: What the query opens: ``{"dataset", "k", "sel", "message"}`` (server-checked).
VIEW_STORE = "view-store"
#: The link token of the dataset on screen (written into the address).
VIEW_LINK = "view-link"
DATASET_STORE = "dataset-store"
SELECTION_STORE = "selection-store"
PENDING_STORE = "pending-store"
WHATIF_STORE = "whatif-store"
JOB_STORE = "job-store"
#: Which (dataset, sensitivity) has been segmented for every k in the background.
WARM_STORE = "warm-store"
#: Which (dataset, k, sensitivity, compare and holdout days) the over-time job
#: has ready in the server's store (:mod:`app.callbacks.overtime`).
OVERTIME_STORE = "overtime-store"
#: Set when the over-time result of the view is not stored yet: starts its job.
OVERTIME_REQUEST = "overtime-request"

# Pattern-matching ids -------------------------------------------------------------
MAPPING_CHOICE_TYPE = "mapping-choice"
RUN_REOPEN_TYPE = "run-reopen"


def mapping_choice(canonical: str | object) -> dict[str, object]:
    """Return the id of the mapping dropdown for one canonical column.

    Parameters
    ----------
    canonical : str or dash.ALL
        A name of ``schema.CANONICAL_COLUMNS``, or a wildcard in a callback.
    """
    return {"type": MAPPING_CHOICE_TYPE, "index": canonical}


def run_reopen(run_id: str | object) -> dict[str, object]:
    """Return the id of the "Reopen" button of one saved run.

    Parameters
    ----------
    run_id : str or dash.ALL
        A saved run's id (:class:`segmentation.runs.RunStore`), or a wildcard.
    """
    return {"type": RUN_REOPEN_TYPE, "index": run_id}
