/*
 * The persona cards, drawn in the browser (app/components/personas.py).
 *
 * The cards come as plain data (persona_card_data: the words and numbers
 * written by the server), from the k views on a k change (assets/k_views.js
 * calls draw) or from the persona-cards-data store the server's panels fill
 * (drawPersonaCards, a clientside callback). They are drawn inside
 * #persona-cards-host, which Dash renders with no children: React leaves
 * what is drawn there alone. A k change so redraws up to ten cards without
 * Dash building some twenty components for each.
 *
 * Each card is a button for the keyboard and screen readers (role=button,
 * tabindex, aria-pressed, a label naming the tier; Enter and Space click it:
 * assets/a11y.js). A click on a card sets the persona-card-click store to
 * {cluster, at}, which the selection callback reads. All text goes in as
 * text (textContent), never as HTML.
 */
(function () {
    "use strict";

    const HOST = "persona-cards-host";
    const DATA_STORE = "persona-cards-data";
    const CLICK_STORE = "persona-card-click";

    // the data last drawn, as JSON: the same data is not drawn twice
    let drawn = null;

    function el(tag, className, text) {
        const node = document.createElement(tag);
        if (className) { node.className = className; }
        if (text !== undefined && text !== null) { node.textContent = text; }
        return node;
    }

    function groupLine(group) {
        const li = el("li");
        li.appendChild(el("b", null, group.persona));
        if (group.status !== null && group.status !== undefined) {
            li.appendChild(document.createTextNode(" · " + group.status));
        }
        if (group.size !== null && group.size !== undefined) {
            li.appendChild(document.createTextNode(" · " + group.size));
        }
        li.appendChild(el("div", "text-muted", group.action));
        return li;
    }

    // one card: the same elements, classes and attributes Dash drew before
    function card(data) {
        const classes = ["persona-card"];
        if (data.selected) { classes.push("selected"); }
        if (data.dimmed) { classes.push("dimmed"); }
        const wrapper = el("div", classes.join(" "));
        wrapper.dataset.cluster = String(data.cluster);
        wrapper.setAttribute("role", "button");
        wrapper.setAttribute("tabindex", "0");
        wrapper.setAttribute("title", data.title);
        wrapper.setAttribute("aria-pressed", data.selected ? "true" : "false");
        wrapper.setAttribute("aria-label", data.label);

        const box = el("div", "h-100 card");
        box.style.borderTop = "6px solid " + data.colour;
        const body = el("div", "card-body");
        body.appendChild(el("h3", "mb-1 persona-tier", data.tier));
        body.appendChild(el("div", "persona-size", data.size));
        const medians = el("div", "small text-muted", data.medians);
        if (data.spend) {
            if (data.spend.sign) {
                medians.appendChild(document.createTextNode(data.spend.sign));
            }
            medians.appendChild(el("span", "money", data.spend.digits));
        } else {
            medians.appendChild(el("span", null, "–"));
        }
        medians.appendChild(document.createTextNode(" spent"));
        body.appendChild(medians);
        const list = el("ul", "small mb-1 ps-3 persona-groups");
        (data.groups || []).forEach(function (g) { list.appendChild(groupLine(g)); });
        body.appendChild(list);
        if (data.selected_words !== null && data.selected_words !== undefined) {
            body.appendChild(el("span", "mt-1 badge bg-dark", data.selected_words));
        }
        box.appendChild(body);
        wrapper.appendChild(box);
        return wrapper;
    }

    // the cards' elements, in a fragment (for draw, and for tests)
    function build(cards) {
        const fragment = document.createDocumentFragment();
        (cards || []).forEach(function (c) { fragment.appendChild(card(c)); });
        return fragment;
    }

    // draw cards (a list of persona_card_data) in the host; false when the
    // page has no host yet. The focused card keeps the focus (a redraw after
    // Enter on it, the selection drawn).
    function draw(cards) {
        const host = document.getElementById(HOST);
        if (!host || !Array.isArray(cards)) { return false; }
        const text = JSON.stringify(cards);
        if (text === drawn && host.firstChild) { return true; }
        drawn = text;
        const active = document.activeElement;
        const focused = active && host.contains(active) && active.dataset
            ? active.dataset.cluster : null;
        host.replaceChildren(build(cards));
        const coming = host.parentElement
            && host.parentElement.querySelector(":scope > .panel-coming");
        if (coming) { coming.hidden = true; }
        if (focused !== null && focused !== undefined) {
            const again = host.querySelector(
                '.persona-card[data-cluster="' + focused + '"]');
            if (again) { again.focus({ preventScroll: true }); }
        }
        return true;
    }

    document.addEventListener("click", function (event) {
        const target = event.target;
        const chosen = target && target.closest
            ? target.closest("#" + HOST + " .persona-card") : null;
        if (!chosen || !window.dash_clientside || !window.dash_clientside.set_props) {
            return;
        }
        window.dash_clientside.set_props(CLICK_STORE, {
            data: { cluster: Number(chosen.dataset.cluster), at: Date.now() },
        });
    });

    // the clientside callback on the persona-cards-data store
    function drawPersonaCards(cards) {
        if (cards) { draw(cards); }
        return window.dash_clientside.no_update;
    }

    // the data store's value in the Dash store (the layout's, at first)
    function storedCards() {
        const props = window.dashStore.props(DATA_STORE);  // assets/dash_store.js
        return props ? props.data : null;
    }

    // the first screen's cards (the page comes with their data): drawn as soon
    // as the host is on the page, not after the page's first callbacks (their
    // callback comes among them, and draws the same data again: skipped)
    function drawFirst() {
        const observer = new MutationObserver(function () {
            if (!document.getElementById(HOST)) { return; }
            observer.disconnect();
            const cards = storedCards();
            if (cards) { draw(cards); }
        });
        observer.observe(document.documentElement, { childList: true, subtree: true });
    }
    drawFirst();

    window.personaCards = { draw: draw, build: build };
    window.dash_clientside = Object.assign({}, window.dash_clientside);
    window.dash_clientside.segmentation = Object.assign(
        {}, window.dash_clientside.segmentation,
        { drawPersonaCards: drawPersonaCards });
})();
