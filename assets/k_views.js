/*
 * The panels drawn in the browser (app/callbacks/panels.py: k_views, k_choice).
 *
 * Once a dataset is on screen, the every-k warm-up job sends every k's panels:
 * the value x style grid (per metric), the feature heatmap and the persona
 * cards as they look without a selection, and for the scatter only which
 * customers each tier x style trace holds ("rows" into the base: positions and
 * hover data are sent once). showPanels draws them at once, without the
 * server: the persona cards are drawn from their data (assets/persona_cards.js,
 * no Dash output: no React component per card), the traces and the tier
 * axis change; the rest of each layout (the
 * scatter's zoom, its what-if star) stays. When it cannot (no views yet,
 * another dataset or sensitivity, a selection to highlight, a scatter that
 * draws a sample) it asks the server (render_requested) through the
 * panels-request store, for all four panels or for the scatter only.
 *
 * How a figure is redrawn (redraw): a k change sets off many other callbacks
 * (the table, the k diagnostics, the figures that follow the settled k), and
 * a figure sent back as an output waits for all of them before plotly draws
 * it (300 ms and more on two busy cores). So the new traces go to plotly at
 * once (Plotly.react on the graph's div, with the layout plotly holds: zoom,
 * legend clicks, the what-if star stay), and the graph's figure in the Dash
 * store is given the same traces and layout in place, so that the next
 * update of that figure (a Patch, the what-if star) starts from what is
 * drawn, and the graph does not draw it a second time. When the graph is not
 * drawn yet, or is about to be redrawn from its figure, the figure goes out
 * as a Patch, as before.
 *
 * showChoice moves the chosen-k lines of the k diagnostics, rewrites the rule
 * and sets "Use recommended k", from the dataset's k choice; the k
 * diagnostics, further down the page, are redrawn once the panels are.
 */
(function () {
    "use strict";

    // what the panels show now, when the browser drew it: {main, metric}
    const state = { shown: null };

    function hydrate(trace, base) {
        if (!trace.rows) { return trace; }
        const rows = trace.rows;
        const filled = Object.assign({}, trace);
        delete filled.rows;
        filled.x = rows.map(function (r) { return base.x[r]; });
        filled.y = rows.map(function (r) { return base.y[r]; });
        filled.customdata = rows.map(function (r) { return base.customdata[r]; });
        return filled;
    }

    // the figure a graph's component holds in the Dash store (null when the
    // store is not the one this script knows)
    function storedFigure(id) {
        const props = window.dashStore.props(id);  // assets/dash_store.js
        const figure = props ? props.figure : null;
        return figure && Array.isArray(figure.data) && figure.layout ? figure : null;
    }

    // draw data and the layout's changed keys on graph id now; false when the
    // graph is not drawn from the figure it holds (not drawn yet, or a redraw
    // from its figure pending): then the caller sends a Patch
    function redraw(id, data, changes) {
        const node = document.getElementById(id);
        const gd = node ? node.querySelector(".js-plotly-plot") : null;
        const figure = storedFigure(id);
        if (!gd || !gd._fullLayout || !figure || gd.data !== figure.data
            || !window.Plotly || gd.classList.contains("dash-graph--pending")) {
            return false;
        }
        figure.data = data;
        figure.layout = Object.assign({}, figure.layout, changes(figure.layout));
        window.Plotly.react(gd, data, Object.assign({}, gd.layout, changes(gd.layout)));
        return true;
    }

    function copies(traces) {
        // plotly writes into what it draws (uid, ranges): not into the views
        return traces.map(function (t) { return Object.assign({}, t); });
    }

    function showHeatmap(id, view) {
        // a heatmap's traces and its tier axis; titles, margins, template stay
        const data = copies(view.data);
        const drawn = redraw(id, data, function () {
            return { yaxis: Object.assign({}, view.yaxis) };
        });
        if (drawn) { return window.dash_clientside.no_update; }
        return new window.dash_clientside.Patch()
            .assign(["data"], view.data)
            .assign(["layout", "yaxis"], view.yaxis)
            .build();
    }

    function showScatter(view, base, k) {
        const traces = view.traces.map(function (t) { return hydrate(t, base); });
        // a k change clears the selection: a box drawn before goes too
        const revision = "k" + k + "-" + Date.now();
        const drawn = redraw("customer-scatter", traces, function (layout) {
            return {
                legend: Object.assign({}, layout.legend, { font: view.legend_font }),
                selectionrevision: revision,
            };
        });
        if (drawn) { return window.dash_clientside.no_update; }
        return new window.dash_clientside.Patch()
            .assign(["data"], traces)
            .assign(["layout", "legend", "font"], view.legend_font)
            .assign(["layout", "selectionrevision"], revision)
            .build();
    }

    // on a dataset, k, sensitivity or metric change; chosen is a State: a k
    // change clears the selection (the selection callback, which this does not
    // wait for), so a new k is drawn as the whole
    function showPanels(dataset, k, percent, metric, chosen, views, first) {
        const trigger = window.dash_clientside.callback_context.triggered_id;
        return draw(dataset, k, percent, trigger === "k-slider" ? null : chosen,
                    metric, views, first);
    }

    // on a selection set or cleared
    function showSelected(chosen, dataset, k, percent, metric, views, first) {
        return draw(dataset, k, percent, chosen, metric, views, first);
    }

    function draw(dataset, k, percent, chosen, metric, views, first) {
        const skip = window.dash_clientside.no_update;
        if (!dataset) { return [skip, skip, skip, skip]; }
        if (state.shown === null) {
            state.shown = first ? {
                main: JSON.stringify([first.dataset, first.percent, first.k]),
                metric: first.metric,
            } : {};
        }
        const held = !chosen && views && views.k && views.percent === percent
            && JSON.stringify(views.dataset) === JSON.stringify(dataset);
        const view = held ? views.k[String(k)] : null;
        if (!view) {
            state.shown = {};
            return [skip, skip, skip, { all: true, at: Date.now() }];
        }
        const main = JSON.stringify([dataset, percent, k]);
        const same = state.shown.main === main;
        const grid = view.grid[metric] || view.grid.customers;
        const out = [
            same && state.shown.metric === metric ? skip
                : showHeatmap("value-style-grid", grid),
            skip,
            same ? skip : showHeatmap("feature-heatmap", view.heatmap),
            skip,
        ];
        if (!same) {
            window.personaCards.draw(view.cards);
            if (view.scatter && views.base) {
                out[1] = showScatter(view.scatter, views.base, k);
            } else {
                out[3] = { all: false, at: Date.now() };  // a sample: the server's
            }
        }
        state.shown = { main: main, metric: metric };
        return out;
    }

    // once the page is idle (the panels drawn), or after at most ms
    function whenIdle(ms) {
        return new Promise(function (resolve) {
            if (window.requestIdleCallback) {
                window.requestIdleCallback(resolve, { timeout: ms });
            } else {
                setTimeout(resolve, 0);
            }
        });
    }

    let choices = 0;

    function showChoice(k, choice) {
        const skip = window.dash_clientside.no_update;
        if (!choice) { return [skip, skip, skip, skip]; }
        const rec = choice.recommended;
        const rule = choice.rule === null ? "No k sweep was run."
            : choice.rule + " Chosen k = " + k + ".";
        const label = rec === null ? "Use recommended k"
            : "Use recommended k = " + rec;
        const trigger = window.dash_clientside.callback_context.triggered_id;
        const mine = ++choices;  // a later call wins over one still waiting
        if (trigger !== "k-slider" || !choice.shapes.length) {
            return [skip, rule, label, rec === null || k === rec];
        }
        const patch = new window.dash_clientside.Patch();
        choice.shapes.forEach(function (i) {
            patch.assign(["layout", "shapes", i, "x0"], k);
            patch.assign(["layout", "shapes", i, "x1"], k);
        });
        const lines = patch.build();
        // the k diagnostics are redrawn after the panels (plotly redraws all
        // their curves for a line that moves): only the last k is drawn
        return whenIdle(1000).then(function () {
            return mine === choices ? [lines, rule, label, rec === null || k === rec]
                : [skip, skip, skip, skip];
        });
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { showPanels: showPanels, showSelected: showSelected, showChoice: showChoice });
})();
