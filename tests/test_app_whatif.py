"""What-if panel: a hypothetical customer's tier, persona, RFM segment and star."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import pytest
from dash import no_update
from dash.exceptions import PreventUpdate

import segmentation
from app import figures, storage
from app.callbacks import panels, upload, whatif
from segmentation import schema
from tests.dash_text import text_of

ANOMALY_PCT = 2


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    storage.configure(tmp_path_factory.mktemp("data"))
    return upload.ingest(segmentation.load_sample(), "sample.csv")[0]


@pytest.fixture(scope="module")
def customers(dataset):
    seg = storage.get_store().segmentation(dataset["id"], 3, ANOMALY_PCT / 100)
    return seg.customers


def tier_of_cluster(customers, cluster):
    return customers.loc[
        customers[schema.VALUE_CLUSTER] == cluster, schema.VALUE_TIER
    ].iloc[0]


def test_defaults_are_the_population_medians(dataset, customers):
    recency, frequency, monetary = whatif.median_defaults(dataset)
    assert recency == round(customers[schema.RECENCY_DAYS].median())
    assert frequency == round(customers[schema.FREQUENCY].median(), 1)
    assert monetary == round(customers[schema.MONETARY].median(), 2)


def test_best_and_worst_customers_land_in_the_extreme_tiers(dataset, customers):
    # bought today, twice as often and twice as much as the best customer
    best = (
        0,
        2 * customers[schema.FREQUENCY].max(),
        2 * customers[schema.MONETARY].max(),
    )
    text, point = whatif.score_whatif(*best, dataset, 3, ANOMALY_PCT, None)
    said = text_of(text)
    assert f"value tier {tier_of_cluster(customers, 2)}," in said  # 2 = highest of 3
    assert "RFM segment Champions (R 5, F 5, M 5)" in said  # newest, most orders
    assert point == {"frequency": best[1], "monetary": best[2]}
    # one small order, longer ago than anyone's last
    worst = (customers[schema.RECENCY_DAYS].max() + 100, 1, 1.0)
    said = text_of(whatif.score_whatif(*worst, dataset, 3, ANOMALY_PCT, None)[0])
    assert f"value tier {tier_of_cluster(customers, 0)}," in said
    assert "RFM segment Hibernating (R 1, F 1" in said
    assert "persona" in said


def test_same_point_is_not_sent_again(dataset):
    shown = {"frequency": 3.0, "monetary": 500.0}
    assert whatif.score_whatif(30, 3, 500, dataset, 4, ANOMALY_PCT, shown)[1] is (
        no_update
    )


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        (
            (None, 3, 500),
            "Enter a recency (days) (a number ≥ 0) to score the customer.",
        ),
        ((30, None, 500), "Enter a frequency (a number ≥ 0) to score the customer."),
        ((30, 3, ""), "Enter a monetary (a number ≥ 0) to score the customer."),
        ((-1, 3, 500), "recency (days) must be >= 0, got -1"),
        ((30, -2, 500), "frequency must be >= 0, got -2"),
        ((30, 3, -0.01), "monetary must be >= 0, got -0.01"),
        ((30, "many", 500), "frequency must be a number, got 'many'"),
        ((30, 3, math.inf), "monetary must be a finite number, got inf"),
    ],
)
def test_invalid_input_gives_a_message(dataset, values, fragment):
    shown = {"frequency": 3.0, "monetary": 500.0}
    text, point = whatif.score_whatif(*values, dataset, 3, ANOMALY_PCT, shown)
    assert fragment in text_of(text)
    assert point is None  # the star goes away
    assert whatif.score_whatif(*values, dataset, 3, ANOMALY_PCT, None)[1] is no_update


def test_no_dataset_yet_does_nothing():
    with pytest.raises(PreventUpdate):
        whatif.score_whatif(30, 3, 500, None, 3, ANOMALY_PCT, None)


def test_scatter_draws_a_star_named_what_if(dataset):
    point = {"frequency": 10.0, "monetary": 1000.0}
    plain = go.Figure(
        panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers")[1]
    )
    scatter = go.Figure(
        panels.render_panels(dataset, 3, ANOMALY_PCT, None, "customers", point)[1]
    )
    assert len(scatter.data) == len(plain.data)  # not a trace: a box never selects it
    (star,) = [a for a in scatter.layout.annotations if a.name == figures.WHATIF_NAME]
    assert (star.x, star.y, star.text) == (1.0, 3.0, "★")  # log10(10), log10(1000)
    (hidden,) = [a for a in plain.layout.annotations if a.name == figures.WHATIF_NAME]
    assert hidden.visible is False  # its place is kept for the what-if patch


def test_zero_is_scored_but_not_drawn_on_log_axes(dataset, customers):
    text, point = whatif.score_whatif(0, 0, 0, dataset, 3, ANOMALY_PCT, None)
    assert f"value tier {tier_of_cluster(customers, 0)}," in text_of(text)
    fig = go.Figure(figures.customer_scatter(customers, whatif=point))
    (hidden,) = [a for a in fig.layout.annotations if a.name == figures.WHATIF_NAME]
    assert hidden.visible is False
