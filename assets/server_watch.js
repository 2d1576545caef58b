/*
 * When the server goes away (a restart, a crash), the page says so, waits for
 * it, and carries on (app/callbacks/job_status.py).
 *
 * Dash's renderer stops for good when a callback request fails without an
 * answer: a running job's poll then never ends, its "running" state is never
 * undone, and every control stays disabled. Here a callback request that gets
 * no answer is sent again once /api/health answers (checked every second), with
 * a banner meanwhile. A job the restart lost then answers "no result" (204) and
 * Dash undoes the running state, re-enabling the controls; the status callback
 * reads window.segmentationServer.lostJob to say the restart lost the job.
 */
(function () {
    "use strict";
    const CALLBACK_PATH = "_dash-update-component";
    const RETRY_MS = 1000;
    const realFetch = window.fetch.bind(window);
    const state = { lostJob: false, waiting: null };
    window.segmentationServer = state;

    function prefix() {
        try {
            const config = JSON.parse(
                document.getElementById("_dash-config").textContent);
            return config.requests_pathname_prefix || "/";
        } catch (err) {
            return "/";
        }
    }

    function banner(show) {
        let node = document.getElementById("server-gone-banner");
        if (!show) {
            if (node) { node.remove(); }
            return;
        }
        if (node) { return; }
        node = document.createElement("div");
        node.id = "server-gone-banner";
        node.setAttribute("role", "alert");
        node.textContent = "The server is not answering. This page waits for it " +
            "and carries on when it is back.";
        node.style.cssText = "position:fixed;top:0;left:0;right:0;z-index:2000;" +
            "padding:8px 16px;background:#842029;color:#fff;font-weight:600;" +
            "text-align:center";
        document.body.appendChild(node);
    }

    function sleep(ms) {
        return new Promise(function (resolve) { setTimeout(resolve, ms); });
    }

    function serverBack() {
        if (state.waiting) { return state.waiting; }
        banner(true);
        state.waiting = (async function () {
            for (;;) {
                await sleep(RETRY_MS);
                try {
                    const res = await realFetch(prefix() + "api/health",
                                                { cache: "no-store" });
                    if (res.ok) { break; }
                } catch (err) { /* still away */ }
            }
            banner(false);
            state.waiting = null;
        })();
        return state.waiting;
    }

    window.fetch = async function (input, init) {
        const url = typeof input === "string" ? input : (input && input.url) || "";
        if (url.indexOf(CALLBACK_PATH) < 0) {
            return realFetch(input, init);
        }
        const poll = /[?&]job=/.test(url);
        for (;;) {
            try {
                const res = await realFetch(input, init);
                if (poll && res.status !== 204) {
                    state.lostJob = false;  // the job answered: it lives
                }
                return res;
            } catch (err) {
                if (poll) { state.lostJob = true; }
                await serverBack();
            }
        }
    };
})();
