/*
 * What a k change does besides the panels (assets/k_views.js), in the browser.
 *
 * settleK: the k slider's value once it has rested for SETTLE_MS (the
 *   k-settled store). The distributions, the method comparison and the
 *   what-if's words follow it, not every step of the slider, so they never
 *   hold back the panels of a k change.
 * kTable: the selected-customers table on a k change. A selection is cleared
 *   (the server then sends the new rows, once). Without one, only the tier
 *   and persona columns change: the browser takes them from the every-k views
 *   it holds (k_views' "table": names and one code per customer) and the
 *   table's tier and persona columns read them (segmentationAtK), redrawn
 *   once the page is idle (after the panels of the k change); nothing is
 *   sent. When the views do not hold this k (not yet warmed, another dataset,
 *   rows with the over-time columns, which depend on k too) it asks the server
 *   through the table-request store.
 * tableRows: new rows from the server carry their own tier and persona.
 */
(function () {
    "use strict";

    const SETTLE_MS = 400;
    const GRID = "selected-grid";
    let latest = 0;

    function settleK(k) {
        const mine = ++latest;
        return new Promise(function (resolve) {
            setTimeout(function () {
                resolve(mine === latest ? k : window.dash_clientside.no_update);
            }, SETTLE_MS);
        });
    }

    let refreshing = false;

    // the table's tier and persona cells, once the panels are drawn
    function refresh() {
        if (refreshing) { return; }
        refreshing = true;
        const later = window.requestIdleCallback
            || function (f) { return setTimeout(f, 0); };
        later(function () {
            refreshing = false;
            const grids = window.dash_ag_grid;
            const api = grids && grids.getApi ? grids.getApi(GRID) : null;
            if (!api) { return; }
            api.refreshCells({ columns: ["tier", "persona"], force: true });
            api.onFilterChanged();
            api.onSortChanged();
        }, { timeout: 500 });
    }

    function kTable(k, current, dataset, percent, views, rows) {
        const skip = window.dash_clientside.no_update;
        if (current) {
            // clearing the selection redraws the table from the server, once
            window.segmentationTable = null;
            return [null, skip];
        }
        const held = views && views.k && views.percent === percent
            && JSON.stringify(views.dataset) === JSON.stringify(dataset);
        const view = held ? views.k[String(k)] : null;
        const plain = rows && rows.length && rows[0].i !== undefined
            && rows[0].tier_before === undefined;
        if (!view || !view.table || !plain) {
            window.segmentationTable = null;
            return [skip, { at: Date.now() }];
        }
        window.segmentationTable = view.table;
        refresh();
        return [skip, skip];
    }

    function tableRows(rows) {
        window.segmentationTable = null;
        return window.dash_clientside.no_update;
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { settleK: settleK, kTable: kTable, tableRows: tableRows });

    // the tier and persona columns: the chosen k's, when the browser drew it
    const dagfuncs = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
    dagfuncs.segmentationAtK = function (params, field) {
        const data = params.data || {};
        const table = window.segmentationTable;
        const column = table && table[field];
        if (column && data.i !== undefined && data.i < column.codes.length) {
            return column.names[column.codes[data.i]];
        }
        return data[field];
    };
})();
