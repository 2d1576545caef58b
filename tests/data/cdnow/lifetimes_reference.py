"""Write lifetimes_reference.json: the independent fits the lifetime tests check.

Run in a separate virtual environment holding the ``lifetimes`` package (it is
not a dependency of the project, and parts of it break on pandas 3)::

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install "numpy<2" "pandas<2.2" "scipy<1.12" autograd \
        dill lifetimes==0.11.3
    /tmp/refvenv/bin/python tests/data/cdnow/lifetimes_reference.py

It fits, by maximum likelihood with ``penalizer_coef=0``:

* BG/NBD and Gamma-Gamma on the published 39-week calibration summary
  (weeks), with a few customers' P(alive) and expected repeat orders in the
  39 weeks after calibration;
* BG/NBD on ``CDNOW_sample.txt`` summarised in days by lifetimes'
  ``calibration_and_holdout_data`` (calibration 1997-01-01 .. 1997-09-30,
  holdout to 1998-06-30, same-day purchases counted once), with the predicted
  and actual holdout orders.
"""

import json
from pathlib import Path

import lifetimes
import numpy as np
import pandas as pd
import scipy
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import calibration_and_holdout_data

HERE = Path(__file__).parent
SHOWN = [1, 2, 3, 18, 100, 1000]  # the customer IDs whose predictions are kept

summary = pd.read_csv(HERE / "cdnow_customers_summary_with_transactions.csv")
bg = BetaGeoFitter(penalizer_coef=0.0).fit(summary["x"], summary["t_x"], summary["T"])
rows = summary.set_index("ID").loc[SHOWN]
p_alive = bg.conditional_probability_alive(rows["x"], rows["t_x"], rows["T"])
expected = bg.conditional_expected_number_of_purchases_up_to_time(
    39, rows["x"], rows["t_x"], rows["T"]
)
repeat = summary[summary["x"] > 0]
gg = GammaGammaFitter(penalizer_coef=0.0).fit(repeat["x"], repeat["zbar"])

lines = pd.read_csv(
    HERE / "CDNOW_sample.txt",
    sep=r"\s+",
    header=None,
    names=["master_id", "customer_id", "date", "cds", "dollars"],
    dtype={"master_id": str, "customer_id": str, "date": str},
)
lines["date"] = pd.to_datetime(lines["date"], format="%Y%m%d")
days = calibration_and_holdout_data(
    lines,
    "customer_id",
    "date",
    calibration_period_end="1997-09-30",
    observation_period_end="1998-06-30",
    freq="D",
)
bg_days = BetaGeoFitter(penalizer_coef=0.0).fit(
    days["frequency_cal"], days["recency_cal"], days["T_cal"]
)
predicted = bg_days.conditional_expected_number_of_purchases_up_to_time(
    273, days["frequency_cal"], days["recency_cal"], days["T_cal"]
)

reference = {
    "library": f"lifetimes {lifetimes.__version__}",
    "environment": f"pandas {pd.__version__}, numpy {np.__version__}, "
    f"scipy {scipy.__version__}",
    "weeks": {
        "bgnbd": {k: float(v) for k, v in bg.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in gg.params_.items()},
        "customers": {
            str(i): {"p_alive": float(p), "expected_orders_39w": float(e)}
            for i, p, e in zip(SHOWN, p_alive, expected)
        },
        "expected_orders_39w_total": float(
            bg.conditional_expected_number_of_purchases_up_to_time(
                39, summary["x"], summary["t_x"], summary["T"]
            ).sum()
        ),
    },
    "days": {
        "calibration_end": "1997-09-30",
        "holdout_days": 273,
        "customers": len(days),
        "bgnbd": {k: float(v) for k, v in bg_days.params_.items()},
        "predicted_orders": float(predicted.sum()),
        "actual_orders": float(days["frequency_holdout"].sum()),
        "summary_x_total": int(days["frequency_cal"].sum()),
        "summary_t_x_total": float(days["recency_cal"].sum()),
        "summary_T_total": float(days["T_cal"].sum()),
    },
}
(HERE / "lifetimes_reference.json").write_text(json.dumps(reference, indent=2) + "\n")
print(json.dumps(reference, indent=2))
