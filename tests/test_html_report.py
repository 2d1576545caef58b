"""The printable HTML report: receipt, tiers and personas, grids, k, escaping.

The page is parsed with the standard library's ``html.parser`` into a small tree,
and its numbers are read from the cells they belong to. Expected counts are the
known facts of Online Retail I (../shared/data/README.md) or sums that must hold.
"""

from __future__ import annotations

import io
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import segmentation
from app import ids, storage, theme
from app.callbacks import download, upload
from app.callbacks import register_callbacks as register_app_callbacks
from segmentation import _report_figures
from segmentation.html_report import PRODUCT, render_html_report

ROOT = Path(__file__).resolve().parents[1]
#: Online Retail I (README): lines read; the engine's cleaning keeps these lines
#: from these customers; lines without a customer id (the first bucket tested).
RETAIL_LINES = 541_909
RETAIL_KEPT = 391_150
RETAIL_CUSTOMERS = 4_334
RETAIL_MISSING_ID = 135_080
HOSTILE = "<script>alert(1)</script>"
VOID = {"meta", "br", "link", "img", "input", "hr", "col", "source", "wbr"}


# A small DOM -----------------------------------------------------------------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list = field(default_factory=list)

    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text() for c in self.children]
        return " ".join("".join(parts).split())

    def find_all(self, tag: str, **attrs) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                if child.tag == tag and _matches(child, attrs):
                    found.append(child)
                found += child.find_all(tag, **attrs)
        return found

    def find(self, tag: str, **attrs) -> Node:
        (found,) = self.find_all(tag, **attrs)
        return found

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()


def _matches(node: Node, attrs: dict) -> bool:
    for key, value in attrs.items():
        if key == "class_":
            if value not in (node.attrs.get("class") or "").split():
                return False
        elif node.attrs.get(key) != value:
            return False
    return True


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.raw_text: dict[str, list[str]] = {"style": [], "script": []}

    def handle_starttag(self, tag, attrs):
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag):
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return
        raise AssertionError(f"</{tag}> closes nothing open")

    def handle_data(self, data):
        self.stack[-1].children.append(data)
        if self.stack[-1].tag in self.raw_text:
            self.raw_text[self.stack[-1].tag].append(data)


def parse(page: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(page)
    builder.close()
    assert [n.tag for n in builder.stack] == ["#document"], "unclosed elements"
    return builder.root


def receipt(dom: Node) -> dict[str, int]:
    """The receipt table: bucket -> count, read from the page."""
    table = dom.find("table", class_="receipt")
    counts = {}
    for row in table.find_all("tr"):
        bucket = row.attrs.get("data-bucket")
        if bucket:
            count = row.find_all("td")[0].text()
            counts[bucket] = int(count.replace(",", ""))
    return counts


# Online Retail I -------------------------------------------------------------------


@pytest.fixture(scope="module")
def retail_run(retail_prepared):
    return segmentation.segment(retail_prepared, 3, with_stability=True)


@pytest.fixture(scope="module")
def retail_page(retail_prepared, retail_run) -> str:
    return render_html_report(retail_prepared, retail_run)


@pytest.fixture(scope="module")
def retail_dom(retail_page) -> Node:
    return parse(retail_page)


@pytest.mark.realdata
def test_the_receipt_shows_the_known_counts_of_online_retail_i(retail_dom):
    counts = receipt(retail_dom)
    assert counts["read"] == RETAIL_LINES
    assert counts["kept"] == RETAIL_KEPT
    assert counts["customers"] == RETAIL_CUSTOMERS
    assert counts["missing_customer_id"] == RETAIL_MISSING_ID
    drops = {k: n for k, n in counts.items() if k not in {"read", "kept", "customers"}}
    # every line is in one row: the buckets shown add up to what was not kept
    assert sum(drops.values()) == RETAIL_LINES - RETAIL_KEPT
    assert all(n > 0 for n in drops.values()), "empty buckets are left out"


@pytest.mark.realdata
def test_each_bucket_says_why_and_matches_the_cleaning_report(
    retail_dom, retail_prepared
):
    table = retail_dom.find("table", class_="receipt")
    report = retail_prepared.report
    for row in table.find_all("tr", class_="drop"):
        bucket = row.attrs["data-bucket"]
        count, _share, why = (c.text() for c in row.find_all("td"))
        assert int(count.replace(",", "")) == report.counts[bucket]
        assert len(why) > 20, f"{bucket}: no reason given"
    missing = table.find("tr", **{"data-bucket": "missing_customer_id"})
    assert missing.find_all("td")[1].text() == "24.9 %"  # 135,080 / 541,909


@pytest.mark.realdata
def test_the_title_names_the_file_date_k_method_time_and_product(retail_dom):
    title = retail_dom.find("head").find("title").text()
    assert "online_retail_I.csv" in title and PRODUCT in title
    assert retail_dom.find("h1").text() == "Segmentation report: online_retail_I.csv"
    assert retail_dom.find("dd", id="as-of").text() == "2011-12-10"  # day after last
    assert retail_dom.find("dd", id="k").text() == "3"
    assert retail_dom.find("dd", id="method").text() == "k-means"
    assert retail_dom.find("dd", id="generated-at").text().endswith("UTC")


@pytest.mark.realdata
def test_the_assumptions_are_listed(retail_dom, retail_prepared):
    shown = [
        li.text()
        for li in retail_dom.find("ul", class_="assumptions").children
        if isinstance(li, Node)
    ]
    expected = [*retail_prepared.notes, *retail_prepared.report.rules]
    assert shown == [" ".join(s.split()) for s in expected]
    assert any("returns:" in s for s in shown)


@pytest.mark.realdata
def test_every_tier_and_persona_is_named_with_its_customers(retail_dom, retail_run):
    tiers = retail_dom.find("table", class_="tiers")
    rows = {
        r.attrs["data-tier"]: r for r in tiers.find_all("tr") if "data-tier" in r.attrs
    }
    assert set(rows) == set(retail_run.customers["value_tier"])
    sizes = {
        t: int(r.find_all("td")[0].text().replace(",", "")) for t, r in rows.items()
    }
    assert sum(sizes.values()) == RETAIL_CUSTOMERS
    # highest tier first
    assert list(rows) == list(retail_run.value_model.tier_names_)[::-1]

    personas = retail_dom.find("table", class_="personas")
    named = [
        r.attrs["data-persona"]
        for r in personas.find_all("tr")
        if "data-persona" in r.attrs
    ]
    assert sorted(named) == sorted(retail_run.personas["persona"])
    counts = [
        int(r.find_all("td")[1].text().replace(",", ""))
        for r in personas.find_all("tr")
        if "data-persona" in r.attrs
    ]
    assert sum(counts) == RETAIL_CUSTOMERS
    for row in personas.find_all("tr"):
        if "data-persona" in row.attrs:
            who, what = (c.text() for c in row.find_all("td")[3:5])
            assert who and what, f"{row.attrs['data-persona']}: no description/action"


@pytest.mark.realdata
def test_the_grids_account_for_every_customer(retail_dom):
    grid = retail_dom.find("table", class_="grid")
    cells = grid.find_all("td", class_="cell")
    assert len(cells) == 3 * 3  # k tiers x 3 styles
    in_cells = sum(
        int(td.find("span", class_="count").text().replace(",", ""))
        for td in cells
        if td.find_all("span", class_="count")
    )
    assert in_cells == RETAIL_CUSTOMERS

    rf = retail_dom.find("table", class_="rf")
    rf_cells = rf.find_all("td", class_="cell")
    assert len(rf_cells) == 25
    assert (
        sum(
            int(td.find("span", class_="count").text().replace(",", ""))
            for td in rf_cells
        )
        == RETAIL_CUSTOMERS
    )
    # R = 5 on top; its first cell (F = 1) is "New", its last "Champions"
    first_row = rf.find("tbody").find_all("tr")[0]
    assert first_row.find("th").text() == "R = 5"
    names = [td.find("span", class_="sub").text() for td in first_row.find_all("td")]
    assert names[0] == "New" and names[-1] == "Champions"


@pytest.mark.realdata
def test_the_k_diagnostics_show_the_sweep_and_the_recommended_k(
    retail_dom, retail_prepared
):
    """The sweep's k, the recommended k and one chart per measure."""
    sweep = retail_prepared.diagnostics
    assert retail_dom.find("b", id="recommended-k").text() == str(sweep.recommended_k)
    table = retail_dom.find("table", class_="diagnostics")
    body = table.find("tbody").find_all("tr")
    assert [int(r.find("th").text().split()[0]) for r in body] == list(
        sweep.table.index
    )
    header = [th.text() for th in table.find("thead").find_all("th")]
    assert header[:5] == [
        "k",
        "Inertia",
        "Silhouette",
        "Davies–Bouldin",
        "Calinski–Harabasz",
    ]
    # one small chart per measure, each marking the recommended k with a ring
    curves = [s for s in retail_dom.find_all("svg") if "kcurve" in s.attrs["class"]]
    assert len(curves) == len(header) - 1


@pytest.mark.realdata
def test_the_stability_of_the_tiers_is_the_runs(retail_dom, retail_run):
    shown = float(retail_dom.find("b", id="stability").text())
    assert 0 < shown <= 1
    assert shown == pytest.approx(retail_run.stability, abs=5e-4)


@pytest.mark.realdata
def test_the_page_is_self_contained(retail_page, retail_dom):
    for node in retail_dom.walk():
        assert node.tag not in {"script", "link", "img", "iframe", "object"}, node.tag
        for name in ("src", "href", "srcset", "data"):
            value = (node.attrs.get(name) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (node.tag, value)
    style = "".join(
        c
        for n in retail_dom.find_all("style")
        for c in n.children
        if isinstance(c, str)
    )
    assert "@import" not in style and "url(" not in style
    assert "@page" in style and "A4" in style  # prints on A4
    assert "break-before: page" in style  # a page per section


# Escaping ----------------------------------------------------------------------------


def _hostile_export() -> bytes:
    """The built-in sample with a customer id and a header that are markup.

    The hostile customer's first line is a return (negative quantity) placed
    first, so the receipt shows it among the examples of lines left out.
    """
    frame = pd.read_csv(io.BytesIO(segmentation.load_sample()), dtype=str)
    first = frame.iloc[[0]].assign(Quantity="-1", CustomerID=HOSTILE)
    buys = frame.iloc[:3].assign(CustomerID=HOSTILE)
    frame = pd.concat([first, frame, buys], ignore_index=True)
    frame = frame.rename(columns={"Country": "<b>Country</b>"})
    return frame.to_csv(index=False).encode()


@pytest.fixture(scope="module")
def hostile_page() -> str:
    prepared = segmentation.prepare(
        _hostile_export(),
        filename=f"{HOSTILE}.csv",
        mapping={"country": "<b>Country</b>"},
    )
    result = segmentation.segment(prepared, 3)
    return render_html_report(prepared, result)


def test_file_names_headers_and_customer_ids_are_escaped(hostile_page):
    assert "<script" not in hostile_page.lower()
    assert "<b>Country</b>" not in hostile_page
    dom = parse(hostile_page)
    assert dom.find("h1").text() == f"Segmentation report: {HOSTILE}.csv"
    customers = [
        row.find_all("td")[-1].text()
        for row in dom.find("table", class_="examples").find_all("tr")[1:]
    ]
    assert HOSTILE in customers
    mapping = {
        row.find_all("td")[0].text(): row.find_all("td")[1].text()
        for row in dom.find("table", class_="mapping").find_all("tr")[1:]
    }
    assert mapping["country"] == "<b>Country</b>"
    assert not dom.find_all("script")


# Colours -----------------------------------------------------------------------------


@pytest.mark.parametrize("k", range(1, 11))
def test_tier_colours_are_the_apps(k):
    assert _report_figures.tier_colours(k) == theme.tier_colours(k)


@pytest.mark.parametrize(
    ("value", "highest", "text"),
    [(0, 100, "#1d2733"), (5, 100, "#1d2733"), (100, 100, "#ffffff")],
)
def test_heat_cells_keep_their_text_readable(value, highest, text):
    background, ink = _report_figures.heat_colour(value, highest)
    assert ink == text
    lighter, darker = sorted(
        (_report_figures.luminance(background), _report_figures.luminance(ink))
    )[::-1]
    assert (lighter + 0.05) / (darker + 0.05) >= 4.5  # WCAG AA for small text


# The command line ----------------------------------------------------------------


@pytest.mark.realdata
@pytest.mark.slow
def test_the_command_line_writes_the_report(retail_csv, tmp_path):
    out = tmp_path / "out.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmentation",
            str(retail_csv),
            "-k",
            "3",
            "--quiet",
            "--html",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    counts = receipt(parse(out.read_text("utf-8")))
    assert (counts["read"], counts["kept"], counts["customers"]) == (
        RETAIL_LINES,
        RETAIL_KEPT,
        RETAIL_CUSTOMERS,
    )


def test_the_command_line_says_which_file_it_cannot_write(tmp_path):
    missing = tmp_path / "no such folder" / "out.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "segmentation",
            "--sample",
            "-q",
            "--html",
            str(missing),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and "out.html" in done.stderr


# The app ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory):
    storage.configure(tmp_path_factory.mktemp("data"))
    stored, _status = upload.ingest(segmentation.load_sample(), "sample.csv")
    return stored


def test_the_app_downloads_the_report_without_saving_a_run(sample_dataset):
    sent = download.download_html_report(1, sample_dataset, 4, 2)
    assert sent["filename"] == "sample_k4_report.html"
    assert sent["type"] == "text/html"
    dom = parse(sent["content"])
    prepared = storage.get_store().prepared(sample_dataset["id"], None)
    counts = receipt(dom)
    assert counts["read"] == prepared.report.rows_in
    assert counts["customers"] == len(prepared.features)
    assert dom.find("dd", id="k").text() == "4"
    assert float(dom.find("b", id="stability").text()) > 0  # computed on the click
    assert storage.run_store().list(10) == []  # nothing saved


class _Recorder:
    """Stands in for the Dash app: records each callback's inputs and function."""

    def __init__(self):
        self.callbacks = []

    def callback(self, *args, **kwargs):
        deps = [*args, *kwargs.values()]

        def register(function):
            self.callbacks.append((function, _flatten(deps)))
            return function

        return register

    def clientside_callback(self, *args, **kwargs):
        self.callbacks.append((None, _flatten([*args, *kwargs.values()])))


def _flatten(items) -> list:
    flat = []
    for item in items:
        if isinstance(item, dict):
            flat += _flatten(item.values())
        elif isinstance(item, list | tuple):
            flat += _flatten(item)
        else:
            flat.append(item)
    return flat


def test_only_the_html_download_listens_to_its_button():
    recorder = _Recorder()
    register_app_callbacks(recorder)
    listening = [
        function
        for function, deps in recorder.callbacks
        if any(
            type(d).__name__ == "Input" and d.component_id == ids.HTML_REPORT_BUTTON
            for d in deps
        )
    ]
    assert listening == [download.download_html_report]


def test_the_page_has_the_button():
    from app.layout import serve_layout

    page = str(serve_layout())
    assert f"'{ids.HTML_REPORT_BUTTON}'" in page
    assert "Download report (HTML)" in page
