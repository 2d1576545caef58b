/*
 * A chosen or dropped file goes to the server as it is read (app/upload_route.py).
 *
 * #upload is a dcc.Upload, but its file never goes through it: the file chosen
 * in its plain <input type=file> (or dropped on it) is taken here, before the
 * component reads it as base64, and checked first: its type, and its size against the limit (the box's
 * data-max-bytes) before a byte is sent; a refused file is named in the error
 * alert with the limit. Then its bytes are sent as they are read, with
 * XMLHttpRequest, to POST /upload (data-path), with a progress bar in bytes
 * ("Uploading orders.csv: 12.4 of 48.0 MB") and a "Cancel upload" button. The
 * server's answer (an upload id only this page learns) is put in the
 * uploaded-store, which starts the loading job (app/callbacks/upload.py).
 *
 * The input is emptied as soon as its file is taken, so choosing the same file
 * again (after a cancel, the sample, another file) sends it again. While a job
 * runs the upload is disabled (the job's running state: aria-disabled on the
 * box), and a drop is ignored.
 */
(function () {
    "use strict";
    const BOX_ID = "upload";
    const TARGET_CLASS = "upload-target";
    const CANCEL_ID = "upload-cancel";
    const BAR_ID = "progress-bar";
    const TEXT_ID = "progress-text";
    const RESULT_ID = "run-result";
    const ALERT_ID = "error-alert";
    const STORE_ID = "uploaded-store";
    const PAGE_TOKEN_ID = "page-token";
    const EXTENSIONS = [".csv", ".xlsx", ".xls", ".xlsm"];
    const MB = 1024 * 1024;
    let sending = null;

    function setProps(id, props) {
        const clientside = window.dash_clientside;
        if (clientside && clientside.set_props) { clientside.set_props(id, props); }
    }

    function say(text) { setProps(ALERT_ID, { children: text, is_open: true }); }

    function mb(bytes) { return (bytes / MB).toFixed(1); }

    function limitOf(box) {
        return Number(box.getAttribute("data-max-bytes")) || 200 * MB;
    }

    function limitWords(limit) {
        return Math.floor(limit / MB) + " MB (" + limit.toLocaleString("en-US") +
            " bytes)";
    }

    function pageToken() {
        // the page's token, as the Dash stores hold it (app/layout.py)
        const state = window.store && window.store.getState();
        const path = state && state.paths && state.paths.strs &&
            state.paths.strs[PAGE_TOKEN_ID];
        if (!path) { return ""; }
        let node = state.layout;
        for (const step of path) { node = node && node[step]; }
        return (node && node.props && node.props.data) || "";
    }

    function refusal(file, limit) {
        const name = file.name.toLowerCase();
        if (!EXTENSIONS.some(function (ext) { return name.endsWith(ext); })) {
            return file.name + ": the app reads " + EXTENSIONS.join(" ") +
                " files; nothing was uploaded.";
        }
        if (file.size > limit) {
            return "The file " + file.name + " (" + mb(file.size) + " MB) is " +
                "larger than the upload limit of " + limitWords(limit) +
                "; nothing was uploaded.";
        }
        if (file.size === 0) {
            return file.name + " is empty (0 bytes); nothing was uploaded.";
        }
        return null;
    }

    function showBar(show) {
        setProps(BAR_ID, { style: { display: show ? "flex" : "none" } });
        setProps(CANCEL_ID, { style: { display: show ? "inline-block" : "none" } });
        setProps(BOX_ID, { disabled: show });
    }

    function progress(file, loaded, total) {
        const of = total || file.size;
        setProps(BAR_ID, { value: of ? Math.round(100 * loaded / of) : 0 });
        setProps(TEXT_ID, {
            children: "Uploading " + file.name + ": " + mb(loaded) + " of " +
                mb(of) + " MB",
        });
    }

    function answerError(xhr, file) {
        try {
            const body = JSON.parse(xhr.responseText);
            if (body && body.error) { return body.error; }
        } catch (err) { /* not JSON */ }
        return "The upload of " + file.name + " failed (the server answered " +
            xhr.status + "); nothing was loaded.";
    }

    function send(file, box) {
        const limit = limitOf(box);
        const refused = refusal(file, limit);
        if (refused) { say(refused); return; }
        if (sending) { sending.abort(); }
        const xhr = new XMLHttpRequest();
        sending = xhr;
        const started = performance.now();
        xhr.open("POST", box.getAttribute("data-path") || "/upload");
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
        xhr.setRequestHeader("X-Page-Token", pageToken());
        xhr.upload.onprogress = function (event) {
            progress(file, event.loaded, event.lengthComputable ? event.total : 0);
        };
        xhr.onload = function () {
            if (sending === xhr) { sending = null; }
            showBar(false);
            if (xhr.status !== 201) {
                setProps(TEXT_ID, { children: "" });
                say(answerError(xhr, file));
                return;
            }
            const answer = JSON.parse(xhr.responseText);
            const seconds = ((performance.now() - started) / 1000).toFixed(1);
            setProps(TEXT_ID, {
                children: "Uploaded " + answer.filename + " (" + mb(answer.bytes) +
                    " MB) in " + seconds + " s",
            });
            setProps(STORE_ID, {
                data: {
                    upload: answer.upload,
                    filename: answer.filename,
                    bytes: answer.bytes,
                    sent: Date.now(),
                },
            });
        };
        xhr.onerror = function () {
            if (sending === xhr) { sending = null; }
            showBar(false);
            setProps(TEXT_ID, { children: "" });
            say("The upload of " + file.name + " failed: the server did not " +
                "answer. Nothing was loaded; choose the file again.");
        };
        xhr.onabort = function () {
            if (sending === xhr) { sending = null; }
            showBar(false);
            setProps(TEXT_ID, { children: "" });
            setProps(RESULT_ID, {
                children: "Upload of " + file.name + " cancelled; the panels " +
                    "still show the data loaded before.",
            });
        };
        setProps(ALERT_ID, { is_open: false });
        setProps(RESULT_ID, { children: "" });
        showBar(true);
        progress(file, 0, file.size);
        xhr.send(file);
    }

    function targetOf(node) {
        return node && node.closest ? node.closest("." + TARGET_CLASS) : null;
    }

    function disabled(target) {
        const box = target.querySelector("#" + BOX_ID + " .upload-box, #" + BOX_ID);
        return Boolean(box && box.getAttribute("aria-disabled") === "true");
    }

    // Capture on window: runs before React's listeners on the page root, so
    // dcc.Upload never reads the file (no FileReader, no base64).
    window.addEventListener("change", function (event) {
        const input = event.target;
        const target = targetOf(input);
        if (!target || input.type !== "file") { return; }
        event.stopImmediatePropagation();
        const file = input.files && input.files[0];
        input.value = "";  // the same file chosen again is a new choice
        if (file) { send(file, target); }
    }, true);

    function dragging(event, on) {
        const target = targetOf(event.target);
        if (!target) { return null; }
        event.preventDefault();
        event.stopImmediatePropagation();
        const box = target.querySelector(".upload-box");
        if (box) { box.classList.toggle("active", on && !disabled(target)); }
        return target;
    }

    window.addEventListener("dragenter", function (event) {
        dragging(event, true);
    }, true);
    window.addEventListener("dragover", function (event) {
        dragging(event, true);
    }, true);
    window.addEventListener("dragleave", function (event) {
        dragging(event, false);
    }, true);
    window.addEventListener("drop", function (event) {
        const target = dragging(event, false);
        if (!target || disabled(target)) { return; }
        const files = event.dataTransfer && event.dataTransfer.files;
        if (files && files[0]) { send(files[0], target); }
    }, true);

    document.addEventListener("click", function (event) {
        const button = event.target && event.target.closest &&
            event.target.closest("#" + CANCEL_ID);
        if (button && sending) { sending.abort(); }
    });
})();
