/*
 * Keyboard and screen-reader help for the page (no Dash prop reaches these):
 *
 * - Enter or Space on a block with role="button" that is not a real <button>
 *   (the persona cards) clicks it, as for a button, so a click listener
 *   (assets/persona_cards.js) sees a keyboard choice like a pointer one.
 * - A <label for=X> whose X is a component's wrapper (dcc.Slider renders a
 *   <div id=X> around its number input and its role="slider" handle) names
 *   the controls inside X (aria-labelledby), so each has an accessible name.
 * - A file input without a label is named by the drop zone's text.
 * - The page's language is English (<html lang="en">).
 */
(function () {
    "use strict";

    document.documentElement.lang = document.documentElement.lang || "en";

    function isFakeButton(el) {
        return el && el.getAttribute && el.getAttribute("role") === "button"
            && !/^(BUTTON|A|INPUT|SELECT|TEXTAREA|SUMMARY)$/.test(el.tagName);
    }

    document.addEventListener("keydown", function (event) {
        if (event.defaultPrevented || event.altKey || event.ctrlKey
            || event.metaKey) { return; }
        const el = event.target;
        if (!isFakeButton(el)) { return; }
        if (event.key === "Enter" || event.key === " " || event.key === "Spacebar") {
            event.preventDefault();
            el.click();
        }
    });

    const LABELABLE = /^(INPUT|SELECT|TEXTAREA|BUTTON|METER|OUTPUT|PROGRESS)$/;

    function nameControls() {
        document.querySelectorAll("label[for]").forEach(function (label) {
            const target = document.getElementById(label.htmlFor);
            if (!target || LABELABLE.test(target.tagName)) { return; }
            if (!label.id) { label.id = "label-for-" + label.htmlFor; }
            target.querySelectorAll("input, [role=slider], select, textarea")
                .forEach(function (control) {
                    if (control.getAttribute("aria-labelledby") !== label.id) {
                        control.setAttribute("aria-labelledby", label.id);
                    }
                });
        });
        document.querySelectorAll("input[type=file]").forEach(function (input) {
            if (input.labels && input.labels.length) { return; }
            if (input.getAttribute("aria-label")) { return; }
            const zone = input.parentElement;
            const words = zone ? zone.textContent.replace(/\s+/g, " ").trim() : "";
            input.setAttribute("aria-label", words || "Choose a file");
        });
    }

    let pending = false;
    const observer = new MutationObserver(function () {
        if (pending) { return; }
        pending = true;
        window.requestAnimationFrame(function () {
            pending = false;
            nameControls();
        });
    });
    function start() {
        nameControls();
        observer.observe(document.body, { childList: true, subtree: true });
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
