/*
 * Gates on the rested k (the k-settled store): a panel that is hidden, or that
 * does not depend on k for the method on screen, gets no request per k change.
 *
 * pcaK: the rested k, passed on only while the scatter shows principal
 *   components (the axes switch's value "pca"); switching to them passes the
 *   current k on, which draws the view.
 * hdbscanK: the rested k, passed on only while HDBSCAN is the method (its help
 *   line says what it made of k; the other methods' help does not change).
 */
(function () {
    "use strict";

    function pcaK(k, axes) {
        return axes === "pca" ? k : window.dash_clientside.no_update;
    }

    function hdbscanK(k, method) {
        return method === "hdbscan" ? k : window.dash_clientside.no_update;
    }

    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { pcaK: pcaK, hdbscanK: hdbscanK });
})();
