"""The HTML report's page: one Jinja2 template with its stylesheet inlined.

Private helper of :mod:`segmentation.html_report`, which fills it. The page is
self-contained (no external stylesheet, script, font or image) and prints on A4:
each section after the first starts a new page, table rows and figures are not
split across pages, and background colours print (``print-color-adjust``).
The environment autoescapes every value; only the figures, already escaped
SVG (:mod:`segmentation._report_figures`), are marked safe.
"""

from __future__ import annotations

STYLE = """
:root { --ink: #1d2733; --muted: #5b6470; --rule: #d6dce4; --soft: #f4f6f9; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { margin: 0 auto; max-width: 800px; padding: 24px 28px 40px; color: var(--ink);
  font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
header.title { border-bottom: 2px solid var(--ink); padding-bottom: 10px; }
.product { font-size: 11px; letter-spacing: .06em; text-transform: uppercase;
  color: var(--muted); margin: 0; }
h1 { font-size: 22px; margin: 2px 0 6px; overflow-wrap: anywhere; }
h2 { font-size: 17px; margin: 0 0 8px; padding-top: 18px; }
h3 { font-size: 14px; margin: 16px 0 6px; }
p { margin: 4px 0 8px; }
.meta { display: flex; flex-wrap: wrap; gap: 4px 18px; margin: 0; font-size: 12px; }
.meta div { display: flex; gap: 6px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.note { color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 12px; }
th, td { padding: 3px 6px; border-bottom: 1px solid var(--rule); text-align: left;
  vertical-align: top; }
thead th { border-bottom: 1.5px solid var(--ink); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums;
  white-space: nowrap; }
tr { break-inside: avoid; page-break-inside: avoid; }
tr.total th, tr.total td { border-top: 1.5px solid var(--ink); font-weight: 700; }
tr.drop th { padding-left: 18px; font-weight: 400; }
.swatch { display: inline-block; width: 11px; height: 11px; margin-right: 6px;
  border: 1px solid var(--ink); vertical-align: -1px; }
.nowrap { white-space: nowrap; }
td.middle { vertical-align: middle; }
th.centre { text-align: center; }
ul.assumptions { margin: 4px 0; padding-left: 20px; }
ul.assumptions li { margin: 2px 0; overflow-wrap: anywhere; }
.code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 11px; overflow-wrap: anywhere; }
table.heat td.cell { text-align: center; vertical-align: middle; height: 54px;
  border: 1px solid #ffffff; }
table.heat .count { font-size: 14px; font-weight: 700; display: block; }
table.heat .sub { font-size: 10.5px; display: block; }
table.heat th.row { white-space: nowrap; vertical-align: middle; }
table.rf td.cell { height: 58px; width: 17%; }
.figure { display: block; max-width: 100%; height: auto; margin: 6px 0; }
.curves { display: flex; flex-wrap: wrap; gap: 6px 8px; break-inside: avoid; }
.svg-title { font: 600 12px system-ui, Arial, sans-serif; fill: var(--ink); }
.svg-label { font: 12px system-ui, Arial, sans-serif; fill: var(--ink); }
.svg-num { font: 11px system-ui, Arial, sans-serif; fill: var(--ink); }
.svg-small { font: 10px system-ui, Arial, sans-serif; fill: var(--muted); }
.legend { font-size: 11.5px; color: var(--muted); }
.legend .ring { display: inline-block; width: 11px; height: 11px; border-radius: 50%;
  border: 2px solid #D55E00; vertical-align: -1px; }
.legend .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%;
  background: var(--ink); vertical-align: 0; }
.legend .bar { display: inline-block; width: 14px; border-top: 2px solid #6b7480;
  vertical-align: 3px; }
.legend .dash { display: inline-block; width: 14px; border-top: 2px dashed #D55E00;
  vertical-align: 3px; }
tr.chosen td, tr.chosen th { background: var(--soft); font-weight: 600; }
footer { margin-top: 24px; border-top: 1px solid var(--rule); padding-top: 8px;
  font-size: 11px; color: var(--muted); }
@page { size: A4; margin: 14mm 13mm 16mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11.5px; }
  section + section { break-before: page; page-break-before: always; }
  h2 { padding-top: 0; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  .figure, table.heat, .curves { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
}
"""

TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{{ product }}">
<title>{{ file }} · segmentation report · {{ product }}</title>
<style>{{ style }}</style>
</head>
<body>
<header class="title">
  <p class="product">{{ product }}</p>
  <h1>Segmentation report: {{ file }}</h1>
  <dl class="meta">
    <div><dt>As of</dt><dd id="as-of">{{ as_of }}</dd></div>
    <div><dt>Value tiers (k)</dt><dd id="k">{{ k }}</dd></div>
    <div><dt>Method</dt><dd id="method">{{ method_label }}</dd></div>
    <div><dt>Customers</dt><dd>{{ customers | int_fmt }}</dd></div>
    <div><dt>Generated</dt><dd id="generated-at">{{ generated_at }}</dd></div>
  </dl>
</header>

<section id="receipt">
  <h2>1. Cleaning receipt</h2>
  <p>Every line of the file is in exactly one row below: the first reason that
  applies to a line decides its row. Only kept lines become customer figures.</p>
  <table class="receipt">
    <thead><tr><th>Lines</th><th class="num">Count</th><th class="num">Share</th>
      <th>Why</th></tr></thead>
    <tbody>
    {% for row in receipt %}
      <tr class="{{ row.kind }}" data-bucket="{{ row.bucket }}">
        <th scope="row">{{ row.label }}</th>
        <td class="num">{{ row.count | int_fmt }}</td>
        <td class="num">{{ row.share }}</td>
        <td>{{ row.description }}</td>
      </tr>
    {% endfor %}
      <tr class="total" data-bucket="customers">
        <th scope="row">Customers</th>
        <td class="num">{{ customers | int_fmt }}</td><td></td>
        <td>Distinct customer ids among the kept lines: one row each in every
        table below.</td>
      </tr>
    </tbody>
  </table>
  {% if examples %}
  <h3>Examples of lines left out</h3>
  <table class="examples">
    <thead><tr><th class="num">Row</th><th>Reason</th><th>Invoice</th>
      <th>Stock code</th><th class="num">Quantity</th><th class="num">Price</th>
      <th>Customer</th></tr></thead>
    <tbody>
    {% for ex in examples %}
      <tr><td class="num">{{ ex.row }}</td><td>{{ ex.reason }}</td>
        <td class="code">{{ ex.invoice_id }}</td>
        <td class="code">{{ ex.stock_code }}</td>
        <td class="num">{{ ex.quantity }}</td><td class="num">{{ ex.unit_price }}</td>
        <td class="code">{{ ex.customer_id }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  <p class="note">Row: the line's number among the lines read, counted from 0.</p>
  {% endif %}
  <h3 id="assumptions">What was assumed about the file</h3>
  {% if assumptions %}
  <ul class="assumptions">
    {% for sentence in assumptions %}<li>{{ sentence }}</li>{% endfor %}
  </ul>
  {% else %}<p>Nothing: the file said everything the engine needed.</p>{% endif %}
  {% if mapping %}
  <h3>Columns used</h3>
  <table class="mapping">
    <thead><tr><th>Meaning</th><th>Column of the file</th></tr></thead>
    <tbody>{% for meaning, header in mapping %}
      <tr><td>{{ meaning }}</td><td class="code">{{ header }}</td></tr>{% endfor %}
    </tbody>
  </table>
  {% endif %}
</section>

<section id="tiers">
  <h2>2. Value tiers and personas</h2>
  <p>Customers are grouped into {{ k }} value tiers by {{ method_label }} on their
  recency, frequency and monetary value (log-scaled), from the highest tier down.
  Revenue is each customer's net spend (purchases less returns).</p>
  <table class="tiers">
    <thead><tr><th>Value tier</th><th class="num">Customers</th>
      <th class="num">Share</th><th class="num">Revenue</th><th class="num">Share</th>
      <th class="num">Median recency</th><th class="num">Median frequency</th>
      <th class="num">Median monetary</th></tr></thead>
    <tbody>
    {% for t in tiers %}
      <tr data-tier="{{ t.name }}"><th scope="row"><span class="swatch"
        style="background: {{ t.colour }}"></span>{{ t.name }}</th>
        <td class="num">{{ t.customers | int_fmt }}</td>
        <td class="num">{{ t.customer_share | pct }}</td>
        <td class="num">{{ t.revenue | money }}</td>
        <td class="num">{{ t.revenue_share | pct }}</td>
        <td class="num">{{ t.median_recency_days | days }}</td>
        <td class="num">{{ t.median_frequency | orders }}</td>
        <td class="num">{{ t.median_monetary | money }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
  {{ tier_bars }}
  <h3>Personas: value tier × status</h3>
  <p class="note">Status compares the days since a customer's last order with their
  own usual gap between orders: Active, Cooling (later than usual) or Lapsed.</p>
  <table class="personas">
    <thead><tr><th>Persona</th><th>Tier · status</th><th class="num">Customers</th>
      <th class="num">Revenue share</th><th>Who they are</th><th>What to do</th>
    </tr></thead>
    <tbody>
    {% for p in personas %}
      <tr data-persona="{{ p.persona }}"><th scope="row"><span class="swatch"
        style="background: {{ p.colour }}"></span>{{ p.persona }}</th>
        <td class="nowrap">{{ p.tier }}
          {%- if p.status %} · {{ p.status }}{% endif %}</td>
        <td class="num">{{ p.customers | int_fmt }}</td>
        <td class="num">{{ p.revenue_share | pct }}</td>
        <td>{{ p.description }}</td><td>{{ p.action }}</td></tr>
    {% endfor %}
    </tbody>
  </table>
</section>

<section id="value-style-grid">
  <h2>3. Value tier × purchase style</h2>
  <p>Purchase style says how a customer buys: Regular, Bulk (large quantities per
  line, as wholesalers do) or Anomaly (unusual buying, worth a look). Each cell:
  customers, their revenue and the cell's label; darker blue is more customers.</p>
  <table class="heat grid">
    <thead><tr><th>Value tier</th>{% for style in styles %}
      <th class="centre">{{ style }}</th>{% endfor %}
      <th class="num">All styles</th></tr></thead>
    <tbody>
    {% for row in style_grid %}
      <tr><th scope="row" class="row"><span class="swatch"
        style="background: {{ row.colour }}"></span>{{ row.tier }}</th>
      {% for c in row.cells %}
        <td class="cell" style="background: {{ c.bg }}; color: {{ c.fg }}"
          data-style="{{ c.style }}">{% if c.customers %}
          <span class="count">{{ c.customers | int_fmt }}</span>
          <span class="sub">{{ c.revenue | money }}</span>
          <span class="sub">{{ c.label }}</span>
          {%- else %}<span class="sub">–</span>{% endif %}</td>
      {% endfor %}
        <td class="num middle"><b>{{ row.customers | int_fmt }}</b><br>
          {{- row.revenue | money }}</td>
      </tr>
    {% endfor %}
    </tbody>
  </table>
</section>

<section id="rf-grid">
  <h2>4. Recency × frequency scores</h2>
  <p>R and F scores are quintiles (5 = most recent, most orders). The 5 × 5 grid
  names ten RFM segments; each cell shows its customers and segment, darker blue
  is more customers.</p>
  <table class="heat rf">
    <thead><tr><th>R score</th>{% for f in rf_scores %}
      <th class="centre">F = {{ f }}</th>{% endfor %}</tr></thead>
    <tbody>
    {% for row in rf_grid %}
      <tr><th scope="row" class="row">R = {{ row.r }}</th>
      {% for c in row.cells %}
        <td class="cell" style="background: {{ c.bg }}; color: {{ c.fg }}">
          <span class="count">{{ c.customers | int_fmt }}</span>
          <span class="sub">{{ c.segment }}</span></td>
      {% endfor %}</tr>
    {% endfor %}
    </tbody>
  </table>
  <h3>The ten segments</h3>
  <table class="segments">
    <thead><tr><th>Segment</th><th class="num">Customers</th><th class="num">Share</th>
      <th class="num">Revenue</th><th class="num">Share</th></tr></thead>
    <tbody>{% for s in rf_segments %}
      <tr><th scope="row">{{ s.name }}</th>
        <td class="num">{{ s.customers | int_fmt }}</td>
        <td class="num">{{ s.customer_share | pct }}</td>
        <td class="num">{{ s.revenue | money }}</td>
        <td class="num">{{ s.revenue_share | pct }}</td></tr>{% endfor %}
    </tbody>
  </table>
</section>

<section id="k-diagnostics">
  <h2>5. Choosing k</h2>
  {% if diagnostics %}
  <p>Recommended k = <b id="recommended-k">{{ diagnostics.recommended_k }}</b>;
  this report uses k = <b>{{ k }}</b>.</p>
  <p class="note">{{ diagnostics.rule }}</p>
  <div class="curves">{% for svg in diagnostics.curves %}{{ svg }}{% endfor %}</div>
  <p class="legend"><span class="ring"></span> <span class="dash"></span> recommended k
    &nbsp; <span class="bar"></span> k of this report
    &nbsp; <span class="dot"></span> the k this measure votes for</p>
  <table class="diagnostics">
    <thead><tr><th>k</th>{% for m in diagnostics.measures %}
      <th class="num">{{ m.title }}</th>{% endfor %}</tr></thead>
    <tbody>{% for row in diagnostics.rows %}
      <tr class="{{ 'chosen' if row.k == k else '' }}"><th scope="row">{{ row.k }}
        {%- for tag in row.tags %} · {{ tag }}{% endfor %}</th>
        {% for value in row.cells %}<td class="num">{{ value }}</td>{% endfor %}</tr>
    {% endfor %}</tbody>
  </table>
  {% if diagnostics.votes %}
  <p class="note">Votes: {% for v in diagnostics.votes %}{{ v.title }} k = {{ v.k }}
    {%- if not loop.last %}; {% endif %}{% endfor %}. Stability in this table:
    agreement between single k-means starts with different seeds, to compare k
    cheaply.</p>
  {% endif %}
  {% else %}
  <p>No k sweep was run for this dataset: k = {{ k }} was set by hand.</p>
  {% endif %}
  {% if stability is not none %}
  <p>Stability of these {{ k }} tiers: <b id="stability">{{ '%.3f' | format(stability)
  }}</b> (mean adjusted Rand index between whole fits with seeds 0 to 4; 1 = the
  same tiers every time).</p>
  {% endif %}
  {% if comparison %}
  <h3>The methods compared at k = {{ comparison.k }}</h3>
  <table class="methods">
    <thead><tr><th>Method</th><th class="num">Tiers</th>
      <th class="num">Silhouette</th><th class="num">Davies–Bouldin</th>
      <th class="num">Calinski–Harabasz</th><th class="num">Stability</th>
      <th class="num">Smallest group</th></tr></thead>
    <tbody>{% for m in comparison.rows %}
      <tr class="{{ 'chosen' if m.chosen else '' }}"><th scope="row">{{ m.label }}</th>
        <td class="num">{{ m.tiers }}</td><td class="num">{{ m.silhouette }}</td>
        <td class="num">{{ m.davies_bouldin }}</td>
        <td class="num">{{ m.calinski_harabasz }}</td>
        <td class="num">{{ m.stability }}</td><td class="num">{{ m.smallest }}</td></tr>
    {% endfor %}</tbody>
  </table>
  {% if comparison.rule %}<p class="note">{{ comparison.rule }}.
    {% if comparison.stability %}Stability here: {{ comparison.stability }}.{% endif %}
  </p>{% endif %}
  {% endif %}
</section>

<footer>
  <p>{{ product }} · file {{ file }} ({{ file_format }}{% if sheets %}, sheets
  {{ sheets }}{% endif %}), SHA-256 <span class="code">{{ sha256 }}</span> ·
  as of {{ as_of }} · k = {{ k }} · method {{ method_label }} · seed {{ seed }} ·
  anomaly share {{ anomaly_share }} · generated {{ generated_at }}</p>
  {% if versions %}<p>{% for name, version in versions %}{{ name }} {{ version }}
  {%- if not loop.last %} · {% endif %}{% endfor %}</p>{% endif %}
</footer>
</body>
</html>
"""
