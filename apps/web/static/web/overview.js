// Dashboard overview from GET /api/dashboard: each catalog site's state (with "Try now" while it blocks
// us), free disk space as a bar, library totals, and the live workers by node with what each runs.
(function () {
  "use strict";
  const { el, formatBytes, toast } = window.Api;
  const sitesBox = document.getElementById("site-states");
  if (!sitesBox) return;
  const REFRESH_MS = 30000;
  let timer = null;

  function time(value) {
    return new Date(value).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function siteBadge(site) {
    if (site.state === "blocked") {
      return el("span", { class: "d-inline-flex align-items-center gap-1 site-state", dataset: { site: site.site, state: site.state }, title: site.detail },
        el("span", { class: "badge text-bg-danger" }, el("i", { class: "bi bi-shield-exclamation" }), " " + site.label + ": blocked until " + time(site.retry_at)),
        el("button", { class: "btn btn-sm btn-outline-primary", type: "button", "data-site-try": site.site,
          title: "Ask " + site.label + " now; if it answers, its waiting downloads start", onclick: () => tryNow(site) }, "Try now"));
    }
    const look = site.state === "reachable" ? ["text-bg-success", "bi-check-circle", "reachable"]
      : site.state === "not_configured" ? ["text-bg-secondary", "bi-gear", "not configured"]
        : ["text-bg-warning", "bi-wifi-off", "not answering"];
    return el("span", { class: "site-state", dataset: { site: site.site, state: site.state }, title: site.detail },
      el("span", { class: "badge " + look[0] }, el("i", { class: "bi " + look[1] }), " " + site.label + ": " + look[2]));
  }

  async function tryNow(site) {
    const button = sitesBox.querySelector('[data-site-try="' + site.site + '"]');
    if (button) { button.disabled = true; button.textContent = "Checking…"; }
    const result = await Api.post("/api/queue/sites/" + site.site + "/try-now");
    if (!result.ok) toast(result.message, "danger");
    else if (result.payload.site.state === "reachable") {
      const count = result.payload.released.length;
      toast(site.label + " answers again" + (count ? "; " + count + " download(s) may start" : ""), "success");
    } else if (result.payload.site.state === "blocked") {
      toast(site.label + " still blocks us; next try " + time(result.payload.site.retry_at), "warning");
    } else toast(result.payload.site.detail, "warning");
    document.dispatchEvent(new CustomEvent("aniworld:queue-changed"));
    refresh();
  }

  function renderDisk(disk) {
    const text = document.getElementById("disk-text");
    const bar = document.getElementById("disk-bar");
    if (disk.total_bytes === undefined) { text.textContent = disk.detail; return; }
    const used = 100 * (disk.total_bytes - disk.free_bytes) / disk.total_bytes;
    bar.style.width = used.toFixed(1) + "%";
    bar.className = "progress-bar " + (disk.ok ? (used > 90 ? "bg-warning" : "bg-success") : "bg-danger");
    const outer = document.getElementById("disk-bar-outer");
    outer.setAttribute("aria-valuenow", used.toFixed(0));
    outer.setAttribute("aria-valuemin", "0");
    outer.setAttribute("aria-valuemax", "100");
    text.textContent = formatBytes(disk.free_bytes) + " free of " + formatBytes(disk.total_bytes) + (disk.ok ? "" : " — " + disk.detail);
  }

  function renderLibrary(totals) {
    const rows = [["Series", totals.series, "series"], ["Episodes", totals.episodes, "episodes"], ["Missing", totals.missing, "missing"], ["Upgradable", totals.upgradable, "upgradable"]];
    document.getElementById("library-totals").replaceChildren(...rows.flatMap(([name, value, key]) => [
      el("dt", { class: "col-7 fw-normal text-body-secondary" }, name),
      el("dd", { class: "col-5 mb-0 text-end", dataset: { total: key } }, String(value))]));
  }

  function renderNodes(nodes, error) {
    const target = document.getElementById("worker-nodes");
    if (error) { target.replaceChildren(el("li", { class: "text-danger" }, error)); return; }
    if (!nodes.length) { target.replaceChildren(el("li", { class: "text-danger" }, "No worker is running: downloads wait until one starts.")); return; }
    target.replaceChildren(...nodes.map((node) => {
      const doing = node.workers.flatMap((worker) => worker.doing);
      const capacity = node.workers.reduce((sum, worker) => sum + (worker.concurrency || 1), 0);
      const stopping = node.workers.some((worker) => worker.stopping);
      return el("li", { class: "mb-1", dataset: { node: node.node } },
        el("span", { class: "fw-semibold" }, el("i", { class: "bi bi-pc-display" }), " " + node.node),
        el("span", { class: "text-body-secondary" }, " · " + node.workers.length + " worker(s), " + doing.length + " of " + capacity + " busy" + (stopping ? " · stopping" : "")),
        doing.length ? el("ul", { class: "list-unstyled ms-3 mb-0" }, doing.map((task) =>
          el("li", { class: "text-break", dataset: { itemId: task.item_id } },
            task.label + (task.progress_percent !== null ? " — " + task.progress_percent.toFixed(0) + " %" : "") + (task.hoster ? " via " + task.hoster : "")))) : el("div", { class: "ms-3 text-body-secondary" }, "idle"));
    }));
  }

  async function refresh() {
    clearTimeout(timer);
    timer = setTimeout(refresh, REFRESH_MS);
    const result = await Api.get("/api/dashboard");
    if (!result.ok) return;
    const data = result.payload;
    sitesBox.replaceChildren(...data.sites.map(siteBadge));
    renderDisk(data.disk);
    renderLibrary(data.library);
    renderNodes(data.nodes, data.workers_error);
  }

  let soon = null;
  function refreshSoon() { if (!soon) soon = setTimeout(() => { soon = null; refresh(); }, 2000); }
  ["queue_status", "download_complete", "download_failed", "system_warning"].forEach((type) => Realtime.on(type, refreshSoon));
  refresh();
})();
