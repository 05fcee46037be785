// Library page: series with missing counts (GET /api/anime), search and filters, and a rescan button.
(function () {
  "use strict";
  const { el, toast } = window.Api;
  const table = document.getElementById("series-rows");
  if (!table) return;
  const form = document.getElementById("library-filters");
  let page = 1;

  function query() {
    const params = new URLSearchParams({ page: String(page) });
    const search = form.search.value.trim();
    if (search) params.set("search", search);
    if (form.missing.checked) params.set("missing", "true");
    if (form.site.value) params.set("site", form.site.value);
    return "/api/anime?" + params.toString();
  }

  async function load() {
    const result = await Api.get(query());
    const status = document.getElementById("library-status");
    if (!result.ok) { status.textContent = result.message; return; }
    const body = result.payload;
    status.textContent = body.count + " series";
    table.replaceChildren(...(body.results.length ? body.results.map(row) :
      [el("tr", {}, el("td", { colspan: 5, class: "text-body-secondary" }, "No series yet — use Search to add some, or rescan the library."))]));
    document.getElementById("page-prev").disabled = !body.previous;
    document.getElementById("page-next").disabled = !body.next;
  }

  function row(series) {
    // data-label: the column name shown beside each cell when the table stacks on a phone.
    return el("tr", { dataset: { seriesId: series.id } },
      el("td", { class: "stack-title" }, el("a", { href: "/library/" + series.id, class: "fw-semibold series-title text-break" }, series.title),
        series.year ? el("span", { class: "text-body-secondary ms-1" }, "(" + series.year + ")") : null),
      el("td", { "data-label": "Site" }, el("span", { class: "badge text-bg-secondary" }, Api.lists.sites[series.site] || series.site)),
      el("td", { class: "text-end", "data-label": "Files" }, series.present_count + " / " + series.episode_count),
      el("td", { class: "text-end", "data-label": "State" }, series.missing_count
        ? el("span", { class: "badge text-bg-warning missing-count" }, series.missing_count + " missing")
        : el("span", { class: "badge text-bg-success" }, "complete")),
      el("td", { class: "text-end", "data-label": "Monitored" }, series.monitored ? el("i", { class: "bi bi-eye", title: "Monitored" }) : "–"));
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); page = 1; load(); });
  form.addEventListener("change", () => { page = 1; load(); });
  let typing = null;  // the title filter applies as you type
  form.search.addEventListener("input", () => { clearTimeout(typing); typing = setTimeout(() => { page = 1; load(); }, 250); });
  document.getElementById("page-prev").addEventListener("click", () => { page = Math.max(1, page - 1); load(); });
  document.getElementById("page-next").addEventListener("click", () => { page += 1; load(); });
  document.getElementById("rescan").addEventListener("click", async () => {
    const result = await Api.post("/api/anime/rescan");
    toast(result.ok ? "Library scan started." : result.message, result.ok ? "success" : "danger");
  });
  Realtime.on("library_scan_progress", (frame) => {
    const data = frame.data || {};
    document.getElementById("scan-progress").textContent = data.finished
      ? "Scan finished." : "Scanning… " + (data.files_seen || 0) + " files";
    if (data.finished) load();
  });
  load();
})();
