/*
 * What Dash holds for a component, read from its store (the page's state).
 *
 * assets/k_views.js reads a graph's figure, assets/persona_cards.js the
 * persona-cards-data store's data, as the page holds them now: Dash's store
 * keeps the layout as one tree, and state.paths.strs the path to each
 * component with a string id. Called once the page has run (from events and
 * observers), never while the scripts load.
 */
(function () {
    "use strict";

    // the props Dash holds now for the component with string id `id`, or null
    // (no store yet, or no such component on the page)
    function props(id) {
        const store = window.store;
        const state = store && store.getState ? store.getState() : null;
        const path = state && state.paths && state.paths.strs
            ? state.paths.strs[id] : null;
        if (!path) { return null; }
        let node = state.layout;
        for (let i = 0; i < path.length && node; i++) { node = node[path[i]]; }
        return node && node.props ? node.props : null;
    }

    window.dashStore = { props: props };
})();
