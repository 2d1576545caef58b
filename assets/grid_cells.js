/*
 * The value x style grid's chosen cell and its cells for the keyboard
 * (app/figures/grid.py, app/components/grid_cells.py).
 *
 * gridOutline: on a selection set or cleared, outline the chosen cell at once
 *   (a Patch of the grid's layout.shapes: the figure is not sent again), or
 *   remove the outline (a selection cleared, from elsewhere, or a k change,
 *   which clears it). The two rectangles are app/figures/grid.py's
 *   cell_outline; the server's grid draws the same ones.
 * The cells' buttons: one <button> per cell in the #grid-cells group laid
 *   over the plot area, named by the trace's meta.cells ("Top tier, Regular:
 *   120 customers"), in reading order (highest tier first), aria-pressed on
 *   the chosen cell. Plain DOM, kept by this script after every drawing of
 *   the grid (plotly_afterplot), however the figure came (the server, a
 *   Patch, a k change drawn in the browser); renamed in place when the cells
 *   are the same, so a focused button keeps the focus. Pressing one (Enter,
 *   Space) sets the grid's clickData as a click on the cell does, so the
 *   selection callback answers both alike. They let the pointer through
 *   (CSS): only the keyboard uses them.
 */
(function () {
    "use strict";

    const GRID = "value-style-grid";
    const CELLS = "grid-cells";
    // app/figures/grid.py OUTLINE_COLOURS and OUTLINE_WIDTHS
    const OUTLINE = [["#1d2733", 6], ["#D55E00", 3]];

    function heat(figure) {
        const trace = figure && figure.data && figure.data[0];
        return trace && trace.type === "heatmap" ? trace : null;
    }

    function outline(figure, cell) {
        const trace = heat(figure);
        if (!trace || !cell) { return []; }
        const x = (trace.x || []).indexOf(cell[1]);
        const y = (trace.y || []).indexOf(cell[0]);
        if (x < 0 || y < 0) { return []; }
        return OUTLINE.map(function (line) {
            return {
                type: "rect", xref: "x", yref: "y",
                x0: x - 0.5, x1: x + 0.5, y0: y - 0.5, y1: y + 0.5,
                line: { color: line[0], width: line[1] },
                fillcolor: "rgba(0,0,0,0)", layer: "above",
            };
        });
    }

    function gridOutline(chosen, figure) {
        const cell = chosen && chosen.cell ? chosen.cell : null;
        chosenCell = cell;
        if (!watch()) { start(0); }  // watch() syncs: aria-pressed, drawn outline
        const shapes = outline(figure, cell);
        const now = (figure && figure.layout && figure.layout.shapes) || [];
        if (JSON.stringify(now) === JSON.stringify(shapes)) {
            return window.dash_clientside.no_update;
        }
        return new window.dash_clientside.Patch()
            .assign(["layout", "shapes"], shapes).build();
    }

    // the chosen cell, [tier, style] or null (gridOutline keeps it)
    let chosenCell = null;

    function key(tier, style) { return JSON.stringify([tier, style]); }

    function graphDiv() {
        const holder = document.getElementById(GRID);
        return holder ? holder.querySelector(".js-plotly-plot") : null;
    }

    // a press: the grid's clickData, as plotly sets it on a click, so the
    // selection callback answers it as it answers a click
    function press(event) {
        const button = event.currentTarget;
        window.dash_clientside.set_props(GRID, {
            clickData: { points: [{
                curveNumber: 0, x: button.dataset.style, y: button.dataset.tier,
            }] },
        });
    }

    function pressed(button) {
        const on = !!chosenCell && chosenCell[0] === button.dataset.tier
            && chosenCell[1] === button.dataset.style;
        button.setAttribute("aria-pressed", on ? "true" : "false");
    }

    // the buttons for the cells plotly has drawn: renamed in place when they
    // are the same cells (a focused button keeps the focus), made anew for
    // other cells (a new k, dataset or sensitivity)
    function sync() {
        const gd = graphDiv();
        const group = document.getElementById(CELLS);
        const trace = gd ? heat(gd) : null;
        if (!group || !trace) { return; }
        const cells = (trace.meta && trace.meta.cells) || [];
        const buttons = Array.from(group.querySelectorAll("button.grid-cell"));
        const same = buttons.length === cells.length && buttons.every(function (b, i) {
            return key(b.dataset.tier, b.dataset.style) === key(cells[i][0], cells[i][1]);
        });
        if (!same) {
            group.replaceChildren.apply(group, cells.map(function (c) {
                const button = document.createElement("button");
                button.type = "button";
                button.className = "grid-cell";
                button.dataset.tier = c[0];
                button.dataset.style = c[1];
                const name = document.createElement("span");
                name.className = "grid-cell-name";
                button.appendChild(name);
                button.addEventListener("click", press);
                return button;
            }));
        }
        Array.from(group.querySelectorAll("button.grid-cell")).forEach(function (b, i) {
            const name = b.firstChild;
            if (name.textContent !== cells[i][2]) { name.textContent = cells[i][2]; }
            pressed(b);
        });
        place(gd, group, trace);
        heal(gd);
    }

    function corners(shapes) {
        return JSON.stringify((shapes || []).map(function (s) {
            return [s.x0, s.x1, s.y0, s.y1, s.line && s.line.color];
        }));
    }

    // the outline plotly draws is the chosen cell's, whichever way the grid
    // was drawn last (a k change drawn in the browser keeps the layout plotly
    // holds, an outline with it; the selection it clears may come after)
    function heal(gd) {
        const want = outline(gd, chosenCell);
        if (corners(gd.layout && gd.layout.shapes) !== corners(want)) {
            window.Plotly.relayout(gd, { shapes: want });
        }
    }

    // the buttons over the plot area: rows and columns as the heatmap's cells
    function place(gd, group, trace) {
        const size = gd._fullLayout && gd._fullLayout._size;
        if (!size) { return; }
        const outer = group.parentElement.getBoundingClientRect();
        const inner = gd.getBoundingClientRect();
        Object.assign(group.style, {
            top: (inner.top - outer.top + size.t) + "px",
            left: (inner.left - outer.left + size.l) + "px",
            width: size.w + "px",
            height: size.h + "px",
            gridTemplateRows: "repeat(" + Math.max(trace.y.length, 1) + ", 1fr)",
            gridTemplateColumns: "repeat(" + Math.max(trace.x.length, 1) + ", 1fr)",
        });
    }

    // follow every drawing of the grid (a figure from the server, a patch, a
    // k change drawn in the browser, a resize): plotly_afterplot
    function watch() {
        const gd = graphDiv();
        if (!gd || typeof gd.on !== "function") { return false; }
        if (!gd.segmentationCells) {
            gd.segmentationCells = true;
            gd.on("plotly_afterplot", sync);
        }
        sync();
        return true;
    }

    function start(attempt) {
        if (watch() || attempt > 600) { return; }
        setTimeout(function () { start(attempt + 1); }, 100);
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", function () { start(0); });
    } else {
        start(0);
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { gridOutline: gridOutline });
})();
