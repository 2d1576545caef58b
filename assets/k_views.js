/*
 * The panels drawn in the browser (app/callbacks/panels.py: k_views, k_choice).
 *
 * Once a dataset is on screen, the every-k warm-up job sends every k's panels:
 * the value x style grid (per metric), the feature heatmap and the persona
 * cards as they look without a selection, and for the scatter only which
 * customers each tier x style trace holds ("rows" into the base: positions and
 * hover data are sent once). showPanels draws them at once, without the
 * server, as partial updates (Patch): the traces and the tier axis change; the
 * rest of each layout (the scatter's zoom, its what-if star) stays. When it
 * cannot (no views yet, another dataset or sensitivity, a selection to
 * highlight, a scatter that draws a sample) it asks the server
 * (render_requested) through the panels-request store, for all four panels
 * or for the scatter only.
 *
 * showChoice moves the chosen-k lines of the k diagnostics, rewrites the rule
 * and sets "Use recommended k", from the dataset's k choice.
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

    function heatmapPatch(view) {
        // a heatmap's traces and its tier axis; titles, margins, template stay
        return new window.dash_clientside.Patch()
            .assign(["data"], view.data)
            .assign(["layout", "yaxis"], view.yaxis)
            .build();
    }

    function scatterPatch(view, base, k) {
        const traces = view.traces.map(function (t) { return hydrate(t, base); });
        return new window.dash_clientside.Patch()
            .assign(["data"], traces)
            .assign(["layout", "legend", "font"], view.legend_font)
            // a k change clears the selection: a box drawn before goes too
            .assign(["layout", "selectionrevision"], "k" + k + "-" + Date.now())
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
        if (!dataset) { return [skip, skip, skip, skip, skip]; }
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
            return [skip, skip, skip, skip, { all: true, at: Date.now() }];
        }
        const main = JSON.stringify([dataset, percent, k]);
        const same = state.shown.main === main;
        const grid = view.grid[metric] || view.grid.customers;
        const out = [
            same && state.shown.metric === metric ? skip : heatmapPatch(grid),
            skip,
            same ? skip : heatmapPatch(view.heatmap),
            same ? skip : view.cards,
            skip,
        ];
        if (!same) {
            if (view.scatter && views.base) {
                out[1] = scatterPatch(view.scatter, views.base, k);
            } else {
                out[4] = { all: false, at: Date.now() };  // a sample: the server's
            }
        }
        state.shown = { main: main, metric: metric };
        return out;
    }

    function showChoice(k, choice) {
        const skip = window.dash_clientside.no_update;
        if (!choice) { return [skip, skip, skip, skip]; }
        const rec = choice.recommended;
        const rule = choice.rule === null ? "No k sweep was run."
            : choice.rule + " Chosen k = " + k + ".";
        const label = rec === null ? "Use recommended k"
            : "Use recommended k = " + rec;
        let lines = skip;
        const trigger = window.dash_clientside.callback_context.triggered_id;
        if (trigger === "k-slider" && choice.shapes.length) {
            const patch = new window.dash_clientside.Patch();
            choice.shapes.forEach(function (i) {
                patch.assign(["layout", "shapes", i, "x0"], k);
                patch.assign(["layout", "shapes", i, "x1"], k);
            });
            lines = patch.build();
        }
        return [lines, rule, label, rec === null || k === rec];
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { showPanels: showPanels, showSelected: showSelected, showChoice: showChoice });
})();
