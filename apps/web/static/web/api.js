// Shared helpers for every page: JSON calls to /api/ with the session cookie + CSRF token, readable
// error messages from the API's {"error": {code, message, details}} shape, a DOM builder that only
// ever sets text (catalog titles can hold HTML: they must never reach innerHTML), short toasts, a
// confirmation dialog, and Api.lists: the server's shared lists (languages, sites, priorities, states)
// from the page's json_script, so no script keeps its own copy.
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function call(method, url, body) {
    const options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (method !== "GET") options.headers["X-CSRFToken"] = csrfToken();
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      return { ok: false, status: 0, payload: null, message: "The server cannot be reached." };
    }
    let payload = null;
    try { payload = await response.json(); } catch (error) { payload = null; }
    if (response.status === 401 && !url.startsWith("/api/auth/")) {
      // The session ended (logout elsewhere, expiry): back to the login page, then here again.
      window.location.assign("/login?next=" + encodeURIComponent(window.location.pathname + window.location.search));
    }
    return { ok: response.ok, status: response.status, payload: payload, message: errorMessage(response.status, payload) };
  }

  function errorMessage(status, payload) {
    const error = payload && payload.error;
    if (!error) return status >= 400 ? "The server answered " + status + "." : "";
    const problems = error.details && error.details.problems;
    return problems ? problems.join(" ") : error.message;
  }

  // el("a", {href: "/x", class: "btn"}, "text", child, ...) — attributes are set with setAttribute,
  // strings become text nodes, null/false children are skipped. on* keys add event listeners.
  function el(tag, attrs) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (let i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) child.forEach((c) => append(node, c));
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }

  function formatBytes(bytes) {
    if (bytes === null || bytes === undefined) return "?";
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++; }
    return (unit ? value.toFixed(1) : value) + " " + units[unit];
  }

  function formatDuration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return h ? h + "h " + m + "m" : m ? m + "m " + r + "s" : r + "s";
  }

  function readLists() {
    const node = document.getElementById("shared-lists");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (error) { return {}; }
  }

  // Short, few and out of the way: one line each (the full text on hover), at most three at once.
  const TOAST_LIMIT = 3;
  const TOAST_MAX_CHARS = 140;
  function toast(message, kind) {
    let box = document.getElementById("toasts");
    if (!box) {
      box = el("div", { id: "toasts", class: "toast-container position-fixed bottom-0 end-0 p-2", "aria-live": "polite" });
      document.body.append(box);
    }
    const text = String(message || "");
    const short = text.length > TOAST_MAX_CHARS ? text.slice(0, TOAST_MAX_CHARS - 1) + "…" : text;
    const item = el("div", { class: "alert alert-" + (kind || "info") + " shadow-sm mb-2 py-2 px-3 small toast-line", role: "status", title: text }, short);
    box.append(item);
    while (box.children.length > TOAST_LIMIT) box.firstElementChild.remove();
    setTimeout(() => item.remove(), kind === "danger" ? 6000 : 3500);
  }

  // A Bootstrap modal that resolves to true when the owner confirms, false otherwise.
  function confirmAction(message, actionLabel, kind) {
    return new Promise((resolve) => {
      let confirmed = false;
      const yes = el("button", { class: "btn btn-" + (kind || "danger"), type: "button", "data-confirm": "yes" }, actionLabel || "OK");
      const dialog = el("div", { class: "modal fade", tabindex: "-1", role: "dialog", "aria-modal": "true", "aria-labelledby": "confirm-text" },
        el("div", { class: "modal-dialog modal-dialog-centered" },
          el("div", { class: "modal-content" },
            el("div", { class: "modal-body", id: "confirm-text" }, message),
            el("div", { class: "modal-footer" },
              el("button", { class: "btn btn-outline-secondary", type: "button", "data-bs-dismiss": "modal" }, "Keep"),
              yes))));
      document.body.append(dialog);
      const modal = new bootstrap.Modal(dialog);
      yes.addEventListener("click", () => { confirmed = true; modal.hide(); });
      dialog.addEventListener("shown.bs.modal", () => yes.focus());
      dialog.addEventListener("hidden.bs.modal", () => { modal.dispose(); dialog.remove(); resolve(confirmed); });
      modal.show();
    });
  }

  // Ordered checkbox lists (<ul> of <li data-value> with a checkbox and up/down buttons):
  // languages and hosters, most wanted first.
  const orderList = {
    wire(list) {
      list.addEventListener("click", (event) => {
        const button = event.target.closest("button[data-move]");
        if (!button) return;
        const item = button.closest("li");
        if (button.dataset.move === "up" && item.previousElementSibling) list.insertBefore(item, item.previousElementSibling);
        else if (button.dataset.move === "down" && item.nextElementSibling) list.insertBefore(item.nextElementSibling, item);
        button.focus();
      });
    },
    set(list, order) {
      const items = Array.from(list.querySelectorAll("li[data-value]"));
      items.forEach((item) => { item.querySelector("input").checked = order.includes(item.dataset.value); });
      order.slice().reverse().forEach((value) => {
        const item = items.find((candidate) => candidate.dataset.value === value);
        if (item) list.prepend(item);
      });
    },
    read(list) {
      return Array.from(list.querySelectorAll("li[data-value]"))
        .filter((item) => item.querySelector("input").checked)
        .map((item) => item.dataset.value);
    },
  };

  window.Api = {
    get: (url) => call("GET", url),
    post: (url, body) => call("POST", url, body),
    put: (url, body) => call("PUT", url, body),
    patch: (url, body) => call("PATCH", url, body),
    del: (url, body) => call("DELETE", url, body),
    el: el,
    formatBytes: formatBytes,
    formatDuration: formatDuration,
    toast: toast,
    confirm: confirmAction,
    orderList: orderList,
    lists: readLists(),
  };
})();
