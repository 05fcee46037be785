// Dashboard: the queue, live. Renders GET /api/queue/status, updates progress bars from
// download_progress events, and re-reads the status (debounced) on every other queue event.
(function () {
  "use strict";
  const { el, formatBytes, formatDuration, toast, lists } = window.Api;
  const root = document.getElementById("queue-panel");
  if (!root) return;

  const PRIORITY_BADGE = { high: "text-bg-danger", normal: "text-bg-secondary", low: "text-bg-light" };
  const STATE_BADGE = { running: "text-bg-success", paused: "text-bg-warning", stopped: "text-bg-secondary" };
  // Which queue commands would change something in each queue state.
  const USEFUL_ACTIONS = { running: ["pause", "stop"], paused: ["resume", "stop"], stopped: ["start"] };
  const SUMMARY_CHARS = 120;
  let refreshTimer = null;
  let pendingItems = [];
  const chosen = new Set(); // ids of waiting items chosen for a bulk action; kept across re-renders

  function scheduleRefresh(delay) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, delay === undefined ? 300 : delay);
  }

  async function refresh() {
    const result = await Api.get("/api/queue/status");
    if (result.ok) render(result.payload);
    else document.getElementById("queue-error").textContent = result.message;
  }

  async function act(method, url, body, done) {
    const result = await Api[method](url, body);
    if (!result.ok) toast(result.message, "danger");
    else if (done) toast(done, "success");
    scheduleRefresh(0);
    return result;
  }

  // Removing an item deletes its partial file: ask first when there is one.
  async function cancel(item) {
    if (item.bytes_done > 0) {
      const question = "Cancel “" + item.label + "” and delete its partial file (" + formatBytes(item.bytes_done) + ")?";
      if (!(await Api.confirm(question, "Cancel and delete"))) return;
    }
    act("del", "/api/queue/" + item.id, undefined, "Cancelled");
  }

  function progressBar(item) {
    const percent = item.progress_percent === null ? 0 : item.progress_percent;
    const bar = el("div", { class: "progress-bar progress-bar-striped progress-bar-animated" });
    bar.style.width = percent + "%";
    return el("div", { class: "progress", role: "progressbar", "aria-label": "Progress", "aria-valuenow": percent.toFixed(0), "aria-valuemin": 0, "aria-valuemax": 100 }, bar);
  }

  function progressText(item) {
    const parts = [];
    if (item.progress_percent !== null) parts.push(item.progress_percent.toFixed(1) + " %");
    parts.push(formatBytes(item.bytes_done) + (item.bytes_total ? " of " + formatBytes(item.bytes_total) : ""));
    if (item.speed) parts.push(formatBytes(item.speed) + "/s");
    if (item.eta_seconds !== null && item.eta_seconds !== undefined) parts.push("ETA " + formatDuration(item.eta_seconds));
    if (item.language) parts.push(item.language);
    if (item.hoster) parts.push(item.hoster);
    if (item.worker_node) parts.push("on " + item.worker_node);
    return parts.join(" · ");
  }

  function languageName(item) {
    const value = item.language_used || item.language;
    return value ? lists.languages[value] || value : null;
  }

  function clock(value) {
    return new Date(value).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  // Why a waiting item does not start yet, in the reader's time zone.
  function waitText(item) {
    const wait = item.wait;
    if (wait && wait.kind === "site_blocked") return (lists.sites[wait.site] || wait.site) + " is blocking us, next try " + clock(wait.until);
    if (wait && wait.kind === "retry") return "Retrying after an error, next try " + clock(wait.until);
    return null;
  }

  // Language, hoster, size and node of a row, each only when known.
  function facts(item) {
    return [languageName(item), item.hoster, item.bytes_total ? formatBytes(item.bytes_total) : null, item.worker_node ? "on " + item.worker_node : null]
      .filter(Boolean).join(" · ");
  }

  function label(item) {
    return el("span", { class: "fw-semibold item-label text-break", title: item.label }, item.label);
  }

  function activeRow(item) {
    return el("li", { class: "list-group-item", dataset: { itemId: item.id, hoster: item.hoster || "", workerNode: item.worker_node || "", language: languageName(item) || "" } },
      el("div", { class: "d-flex justify-content-between align-items-start gap-2" },
        label(item),
        el("span", { class: "d-flex gap-2 align-items-center flex-shrink-0" },
          el("span", { class: "badge text-bg-info" }, lists.item_states[item.state] || item.state),
          el("button", { class: "btn btn-sm btn-outline-danger", type: "button", title: "Cancel (deletes the partial file)", "aria-label": "Cancel",
            "data-action": "cancel", onclick: () => cancel(item) }, el("i", { class: "bi bi-x-lg" })))),
      el("div", { class: "mt-2" }, progressBar(item)),
      el("div", { class: "small text-body-secondary mt-1 progress-text text-break" }, progressText({ ...item, language: languageName(item) })));
  }

  function pendingRow(item, index, list) {
    const samePriority = list.filter((other) => other.priority === item.priority && other.state === "pending");
    const position = samePriority.indexOf(item);
    const wait = waitText(item);
    const details = facts(item);
    const select = el("select", { class: "form-select form-select-sm w-auto", "aria-label": "Priority",
      onchange: (event) => act("post", "/api/queue/" + item.id + "/priority", { priority: event.target.value }) },
      Object.entries(lists.priorities).map(([value, name]) => el("option", { value: value, selected: value === item.priority }, name)));
    const held = item.state === "paused";
    const movable = item.state === "pending";
    return el("li", { class: "list-group-item pending-row", draggable: movable ? "true" : false, dataset: { itemId: item.id, state: item.state },
      ondragstart: (event) => { dragged = item; event.dataTransfer.effectAllowed = "move"; event.dataTransfer.setData("text/plain", String(item.id)); event.currentTarget.classList.add("dragging"); },
      ondragend: (event) => {
        event.currentTarget.classList.remove("dragging");
        clearDropMarks();
        dragged = null;
        if (deferred) { const status = deferred; deferred = null; render(status); }
      } },
      el("div", { class: "d-flex align-items-start gap-2" },
        movable ? el("i", { class: "bi bi-grip-vertical text-body-secondary drag-handle flex-shrink-0", title: "Drag to reorder (or use the arrows)", "aria-hidden": "true" }) : null,
        el("input", { class: "form-check-input flex-shrink-0 pending-choice", type: "checkbox", checked: chosen.has(item.id),
          "aria-label": "Choose " + item.label, onchange: (event) => { if (event.target.checked) chosen.add(item.id); else chosen.delete(item.id); showChoice(); } }),
        el("span", { class: "badge " + (PRIORITY_BADGE[item.priority] || "") }, lists.priorities[item.priority] || item.priority),
        el("span", { class: "flex-grow-1 min-w-0" }, label(item)),
        held ? el("span", { class: "badge text-bg-warning" }, "on hold") : null),
      wait ? el("div", { class: "small mt-1 wait-reason text-warning-emphasis" }, el("i", { class: "bi bi-hourglass-split" }), " " + wait) : null,
      item.last_error && !(item.wait && item.wait.kind === "site_blocked") ? errorSummary(item.last_error) : null,
      el("div", { class: "d-flex flex-wrap align-items-center gap-2 mt-2" },
        el("span", { class: "small text-body-secondary me-auto item-facts" }, details),
        select,
        el("div", { class: "btn-group btn-group-sm" },
          el("button", { class: "btn btn-outline-secondary", type: "button", title: "Move to the top of the queue", "aria-label": "Move to top", "data-action": "top",
            disabled: !movable || list.find((other) => other.state === "pending") === item, onclick: () => moveTo(item, 0) }, el("i", { class: "bi bi-chevron-double-up" })),
          el("button", { class: "btn btn-outline-secondary", type: "button", title: "Move up", "aria-label": "Move up", disabled: position <= 0,
            onclick: () => act("post", "/api/queue/reorder", { item_id: item.id, new_position: position - 1 }) }, el("i", { class: "bi bi-arrow-up" })),
          el("button", { class: "btn btn-outline-secondary", type: "button", title: "Move down", "aria-label": "Move down", disabled: position < 0 || position >= samePriority.length - 1,
            onclick: () => act("post", "/api/queue/reorder", { item_id: item.id, new_position: position + 1 }) }, el("i", { class: "bi bi-arrow-down" })),
          el("button", { class: "btn btn-outline-secondary", type: "button", "data-action": held ? "release" : "hold",
            title: held ? "Release: may start again" : "Hold: skip it until released", "aria-label": held ? "Release" : "Hold",
            onclick: () => act("post", "/api/queue/" + item.id + (held ? "/resume" : "/pause")) },
            el("i", { class: held ? "bi bi-play-fill" : "bi bi-pause-fill" })),
          el("button", { class: "btn btn-outline-danger", type: "button", title: "Remove", "aria-label": "Remove", "data-action": "cancel",
            onclick: () => cancel(item) }, el("i", { class: "bi bi-trash" })))));
  }

  // A failed item: its first line as a summary, the whole message behind a details control.
  function errorSummary(message) {
    const firstLine = message.split("\n")[0];
    const summary = firstLine.length > SUMMARY_CHARS ? firstLine.slice(0, SUMMARY_CHARS - 1) + "…" : firstLine;
    if (summary === message) return el("div", { class: "small text-danger-emphasis mt-1 item-error text-break" }, message);
    return el("details", { class: "small mt-1 item-error" },
      el("summary", { class: "text-danger-emphasis text-break" }, summary),
      el("pre", { class: "small mb-0 mt-1 text-wrap text-break" }, message));
  }

  function historyRow(item) {
    const cancelled = item.state === "cancelled";
    const failed = item.state === "failed";
    const icon = failed ? "bi bi-x-circle-fill text-danger" : cancelled ? "bi bi-slash-circle text-body-secondary" : "bi bi-check-circle-fill text-success";
    return el("li", { class: "list-group-item", dataset: { itemId: item.id, state: item.state } },
      el("div", { class: "d-flex align-items-start gap-2" },
        el("i", { class: icon + " flex-shrink-0", title: lists.item_states[item.state] || item.state }),
        el("span", { class: "flex-grow-1 min-w-0" }, label(item))),
      item.state === "completed" ? el("div", { class: "small text-body-secondary ms-4 item-facts text-break" }, facts(item)) : null,
      el("div", { class: "d-flex flex-wrap align-items-center gap-2 mt-1 ms-4" },
        cancelled ? el("span", { class: "badge text-bg-secondary" }, lists.item_states.cancelled) : null,
        el("span", { class: "small text-body-secondary me-auto" }, item.finished_at ? new Date(item.finished_at).toLocaleString() : ""),
        failed || cancelled ? el("button", { class: "btn btn-sm btn-outline-primary", type: "button",
          onclick: () => act("post", "/api/queue/retry", { ids: [item.id] }, "Queued again") }, "Retry") : null),
      failed && item.last_error ? el("div", { class: "ms-4" }, errorSummary(item.last_error)) : null);
  }

  // Move a waiting item to ``index`` in the whole waiting list: it takes the priority of the item it lands
  // before (or after, at the end), then its place among that priority's waiting items.
  let dragged = null;
  async function moveTo(item, index) {
    const others = pendingItems.filter((other) => other.id !== item.id && other.state === "pending");
    const visible = pendingItems.filter((other) => other.id !== item.id);
    const landing = visible[Math.min(index, visible.length - 1)];
    if (!landing) return;
    const priority = index < visible.length ? landing.priority : visible[visible.length - 1].priority;
    const before = visible.slice(0, index).filter((other) => other.priority === priority && other.state === "pending").length;
    if (priority !== item.priority) {
      const changed = await Api.post("/api/queue/" + item.id + "/priority", { priority: priority });
      if (!changed.ok) { toast(changed.message, "danger"); return scheduleRefresh(0); }
    }
    act("post", "/api/queue/reorder", { item_id: item.id, new_position: Math.min(before, others.length) });
  }

  function clearDropMarks() {
    document.querySelectorAll("#pending-list .drop-before, #pending-list .drop-after").forEach((row) => row.classList.remove("drop-before", "drop-after"));
  }

  function dropTarget(event) {
    const row = event.target.closest("#pending-list [data-item-id]");
    if (!row) return null;
    const box = row.getBoundingClientRect();
    return { row: row, after: event.clientY > box.top + box.height / 2 };
  }

  const pendingList = document.getElementById("pending-list");
  pendingList.addEventListener("dragover", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const target = dropTarget(event);
    clearDropMarks();
    if (target) target.row.classList.add(target.after ? "drop-after" : "drop-before");
  });
  pendingList.addEventListener("drop", (event) => {
    if (!dragged) return;
    event.preventDefault();
    const target = dropTarget(event);
    clearDropMarks();
    const item = dragged;
    dragged = null;
    if (!target || Number(target.row.dataset.itemId) === item.id) return;
    const visible = pendingItems.filter((other) => other.id !== item.id);
    const index = visible.findIndex((other) => other.id === Number(target.row.dataset.itemId)) + (target.after ? 1 : 0);
    moveTo(item, index);
  });

  function list(id, items, row, empty) {
    const target = document.getElementById(id);
    target.replaceChildren(...(items.length ? items.map(row) : [el("li", { class: "list-group-item text-body-secondary" }, empty)]));
  }

  function showChoice() {
    const count = chosen.size;
    document.getElementById("bulk-count").textContent = count ? count + " chosen" : "none chosen";
    ["bulk-priority", "bulk-hold", "bulk-release", "bulk-remove"].forEach((id) => { document.getElementById(id).disabled = !count; });
    const all = document.getElementById("choose-all-pending");
    all.checked = count > 0 && count === pendingItems.length;
    all.indeterminate = count > 0 && count < pendingItems.length;
    all.disabled = !pendingItems.length;
  }

  async function bulk(calls, done) {
    const results = await Promise.all(calls);
    const failedCall = results.find((result) => !result.ok);
    if (failedCall) toast(failedCall.message, "danger");
    else toast(done, "success");
    chosen.clear();
    scheduleRefresh(0);
  }

  function chosenItems() {
    return pendingItems.filter((item) => chosen.has(item.id));
  }

  function showQueueState(state) {
    const badge = document.getElementById("queue-state");
    badge.textContent = lists.queue_states[state] || state;
    badge.className = "badge " + (STATE_BADGE[state] || "text-bg-secondary");
    const useful = USEFUL_ACTIONS[state] || [];
    document.querySelectorAll("[data-queue-action]").forEach((button) => {
      button.disabled = !useful.includes(button.dataset.queueAction);
    });
  }

  // A refresh while a row is being dragged would pull the row from under the pointer: it waits for the drop.
  let deferred = null;
  function render(status) {
    if (dragged) { deferred = status; return; }
    document.getElementById("queue-error").textContent = "";
    showQueueState(status.state);
    const stats = status.stats || {};
    const counts = stats.counts || {};
    const parts = [(stats.active || 0) + " active", (counts.pending || 0) + " pending", (counts.completed || 0) + " completed",
      (counts.failed || 0) + " failed", formatBytes(stats.bytes_downloaded || 0) + " downloaded"];
    const remaining = status.active.reduce((sum, item) => sum + (item.bytes_total ? Math.max(0, item.bytes_total - item.bytes_done) : 0), 0);
    if (stats.current_speed) {
      parts.push(formatBytes(stats.current_speed) + "/s now");
      if (remaining) parts.push(formatBytes(remaining) + " left, about " + formatDuration(remaining / stats.current_speed));
    }
    document.getElementById("queue-stats").textContent = parts.join(" · ");
    list("active-list", status.active, activeRow, "Nothing is downloading.");
    pendingItems = status.pending;
    const present = new Set(pendingItems.map((item) => item.id));
    [...chosen].forEach((id) => { if (!present.has(id)) chosen.delete(id); });
    list("pending-list", status.pending, pendingRow, "The queue is empty.");
    const waiting = (counts.pending || 0) + (counts.paused || 0);
    document.getElementById("pending-more").textContent = waiting > status.pending.length
      ? "The first " + status.pending.length + " of " + waiting + " waiting downloads are shown; the rest follow in order." : "";
    showChoice();
    list("history-list", [...status.failed, ...status.completed], historyRow, "No finished downloads yet.");
    document.getElementById("clear-completed").disabled = !status.completed.length;
    document.getElementById("retry-failed").disabled = !status.failed.some((item) => item.state === "failed");
  }

  function updateProgress(frame) {
    const data = frame.data || {};
    const row = document.querySelector('#active-list [data-item-id="' + data.item_id + '"]');
    if (!row) return scheduleRefresh();
    // download_progress frames use the realtime event names; the list rows use the queue API's.
    const item = {
      progress_percent: data.percent === undefined ? null : data.percent,
      bytes_done: data.downloaded_bytes || 0,
      bytes_total: data.total_bytes,
      speed: data.speed_bytes_per_second,
      eta_seconds: data.eta_seconds,
      hoster: row.dataset.hoster || null,
      worker_node: row.dataset.workerNode || null,
      language: row.dataset.language || null,
    };
    const bar = row.querySelector(".progress-bar");
    if (bar && item.progress_percent !== null) bar.style.width = item.progress_percent + "%";
    row.querySelector(".progress-text").textContent = progressText(item);
  }

  document.querySelectorAll("[data-queue-action]").forEach((button) => {
    button.addEventListener("click", () => act("post", "/api/queue/" + button.dataset.queueAction));
  });
  document.getElementById("clear-completed").addEventListener("click", async () => {
    if (!(await Api.confirm("Remove every completed download from the history? The files stay in the library.", "Clear history", "primary"))) return;
    act("del", "/api/queue/completed", undefined, "History cleared");
  });
  document.getElementById("choose-all-pending").addEventListener("change", (event) => {
    chosen.clear();
    if (event.target.checked) pendingItems.forEach((item) => chosen.add(item.id));
    document.querySelectorAll("#pending-list .pending-choice").forEach((box) => { box.checked = event.target.checked; });
    showChoice();
  });
  document.getElementById("bulk-priority").addEventListener("change", (event) => {
    const priority = event.target.value;
    event.target.value = "";
    if (!priority) return;
    bulk(chosenItems().map((item) => Api.post("/api/queue/" + item.id + "/priority", { priority: priority })), "Priority changed");
  });
  document.getElementById("bulk-hold").addEventListener("click", () => {
    bulk(chosenItems().filter((item) => item.state === "pending").map((item) => Api.post("/api/queue/" + item.id + "/pause")), "Held");
  });
  document.getElementById("bulk-release").addEventListener("click", () => {
    bulk(chosenItems().filter((item) => item.state === "paused").map((item) => Api.post("/api/queue/" + item.id + "/resume")), "Released");
  });
  document.getElementById("bulk-remove").addEventListener("click", async () => {
    const items = chosenItems();
    const partial = items.reduce((sum, item) => sum + (item.bytes_done || 0), 0);
    const question = "Remove " + items.length + " download(s) from the queue?" +
      (partial ? " Their partial files (" + formatBytes(partial) + ") are deleted." : "");
    if (!(await Api.confirm(question, "Remove"))) return;
    bulk([Api.del("/api/queue/", { ids: items.map((item) => item.id) })], "Removed");
  });
  document.getElementById("retry-failed").addEventListener("click", () => act("post", "/api/queue/retry", {}, "Failed downloads queued again"));

  document.addEventListener("aniworld:queue-changed", () => scheduleRefresh(0));
  Realtime.on("download_progress", updateProgress);
  Realtime.on("queue_status", (frame) => (frame.data && frame.data.active ? render(frame.data) : scheduleRefresh()));
  ["download_complete", "download_failed", "queue_started", "queue_stopped", "queue_paused", "queue_resumed"]
    .forEach((type) => Realtime.on(type, () => scheduleRefresh()));
  Realtime.on("download_failed", (frame) => toast((frame.data.label || "A download") + " failed", "danger"));
  Realtime.on("system_warning", (frame) => toast(frame.data.message || "Warning", "warning"));
  Realtime.on("system_error", (frame) => toast(frame.data.message || "Error", "danger"));
  Realtime.on("state", (info) => {
    const dot = document.getElementById("live-state");
    dot.textContent = info.state === "open" ? "live" : info.state;
    dot.className = "badge " + (info.state === "open" ? "text-bg-success" : "text-bg-secondary");
  });
  refresh();
})();
