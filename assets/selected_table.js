/*
 * The selected-customers table and the page's currency, in the browser
 * (app/components/selected.py, app/callbacks/selection.py, currency.py).
 *
 * countLine: the line above the table follows the user's paging and filters
 *   (the grid's paginationInfo); same words as count_line in selected.py.
 * exportRows: "Export these rows (CSV)" asks the grid for its own CSV export
 *   (the rows after the user's filters and sort): nothing goes to the server.
 * setCurrency: puts the chosen symbol in the CSS property --currency of <html>,
 *   which every amount (<span class="money">) shows before its digits.
 * segmentationMoney: the table's amount format (AG Grid valueFormatter).
 */
(function () {
    "use strict";

    const grouped = n => Math.round(n).toLocaleString("en-US");

    function countLine(info, rows, current) {
        const clientside = window.dash_clientside;
        if (!info || !rows) { return clientside.no_update; }
        const held = rows.length;
        const matching = info.rowCount === undefined ? held : info.rowCount;
        const size = info.pageSize || 25;
        const first = (info.currentPage || 0) * size;
        const shown = Math.max(0, Math.min(size, matching - first));
        // a selection larger than the table: the server's line says so
        const rest = (current || "").split("; ")[1];
        const selected = rest ? Number(
            (rest.match(/of ([\d,]+) selected/) || ["", String(held)])[1]
                .replace(/,/g, "")) : held;
        let text;
        if (shown === matching && matching === selected) {
            text = grouped(selected) + (selected === 1 ? " customer" : " customers")
                + " selected";
        } else {
            text = grouped(shown) + " of " + grouped(matching)
                + (matching === 1 ? " customer" : " customers") + " shown";
            if (first > 0 && shown) {
                text += " (rows " + grouped(first + 1) + "–"
                    + grouped(first + shown) + ")";
            }
            if (matching !== held) { text += ", filtered from " + grouped(held); }
        }
        if (rest) { text += "; " + rest; }
        return text === current ? clientside.no_update : text;
    }

    function exportRows(clicks) {
        return Boolean(clicks);
    }

    function setCurrency(symbol) {
        const text = symbol || "";
        document.documentElement.style.setProperty(
            "--currency", JSON.stringify(text));
        return text ? "Amounts shown in " + text : "Amounts shown without a symbol";
    }

    window.dash_clientside = window.dash_clientside || {};
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { countLine: countLine, exportRows: exportRows, setCurrency: setCurrency });

    const dagfuncs = window.dashAgGridFunctions = window.dashAgGridFunctions || {};
    dagfuncs.segmentationMoney = function (value, symbol) {
        if (value === null || value === undefined || Number.isNaN(value)) {
            return "–";
        }
        const digits = Math.abs(value).toLocaleString(
            "en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
        return (value < 0 ? "-" : "") + (symbol || "") + digits;
    };
})();
