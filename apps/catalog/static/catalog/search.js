// Search both catalog sites (GET /api/search) and add a result to the library (POST /api/search/add).
(function () {
  "use strict";
  const { el, toast } = window.Api;
  const form = document.getElementById("search-form");
  if (!form) return;
  const results = document.getElementById("search-results");

  async function add(result, button) {
    button.disabled = true;
    const response = await Api.post("/api/search/add", { site: result.site, slug: result.slug });
    if (response.ok || response.status === 409) {
      const id = response.ok ? response.payload.id : response.payload.error.details && response.payload.error.details.series_id;
      button.replaceWith(el("a", { class: "btn btn-sm btn-outline-success", href: id ? "/library/" + id : "/library" },
        response.ok ? "Added — open" : "In library — open"));
    } else {
      button.disabled = false;
      toast(response.message, "danger");
    }
  }

  // A result already in the library offers to open it (instead of an add that would answer 409).
  // The search answer of aniworld.to carries no year: a series in the library shows the library's.
  function card(result, series) {
    const seriesId = series && series.id;
    const year = result.year || (series && series.year);
    let action;
    if (seriesId) {
      action = el("a", { class: "btn btn-sm btn-outline-success", href: "/library/" + seriesId, "data-in-library": seriesId },
        el("i", { class: "bi bi-check2-circle" }), " In your library — open");
    } else {
      action = el("button", { class: "btn btn-sm btn-primary", type: "button" }, "Add to library");
      action.addEventListener("click", () => add(result, action));
    }
    const cover = result.cover_url
      ? el("img", { class: "search-cover rounded flex-shrink-0", src: "/api/search/cover?url=" + encodeURIComponent(result.cover_url), alt: "", loading: "lazy", })
      : el("div", { class: "search-cover search-cover-empty rounded flex-shrink-0 d-flex align-items-center justify-content-center text-body-secondary" }, el("i", { class: "bi bi-image" }));
    return el("div", { class: "col" },
      el("div", { class: "card h-100 search-result", dataset: { reference: result.reference } },
        el("div", { class: "card-body d-flex gap-3" },
          cover,
          el("div", { class: "min-w-0 flex-grow-1" },
            el("div", { class: "d-flex justify-content-between align-items-start gap-2" },
              el("h2", { class: "h6 card-title mb-1 result-title text-break" }, result.title),
              el("span", { class: "badge text-bg-secondary" }, Api.lists.sites[result.site] || result.site)),
            year ? el("div", { class: "small text-body-secondary result-year" }, String(year)) : null,
            el("p", { class: "small mt-2 mb-0 text-body-secondary" }, (result.description || "").slice(0, 240)))),
        el("div", { class: "card-footer bg-transparent border-0" }, action)));
  }

  // Which results are in the library already: {"site:slug": {id, year}}.
  async function inLibrary(items) {
    if (!items.length) return {};
    const references = items.slice(0, 100).map((item) => item.reference).join(",");
    const response = await Api.get("/api/anime?page_size=100&references=" + encodeURIComponent(references));
    if (!response.ok) return {};
    return Object.fromEntries(response.payload.results.map((series) => [series.site + ":" + series.slug, { id: series.id, year: series.year }]));
  }

  // The query lives in the address (?q=…&site=…), so Back and reload show the same results.
  async function search() {
    const params = new URLSearchParams({ q: form.q.value.trim() });
    if (form.site.value) params.set("site", form.site.value);
    window.history.replaceState(null, "", "?" + params.toString());
    const status = document.getElementById("search-status");
    status.textContent = "Searching…";
    const response = await Api.get("/api/search?" + params.toString());
    if (!response.ok) { status.textContent = response.message; results.replaceChildren(); return; }
    const body = response.payload;
    const items = body.results || [];
    const warnings = body.warnings || [];
    status.textContent = items.length + " result(s)" + (warnings.length ? " — " + warnings.map((warning) => warning.message).join(" ") : "");
    const known = await inLibrary(items);
    results.replaceChildren(...items.map((item) => card(item, known[item.reference])));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    search();
  });
  const asked = new URLSearchParams(window.location.search);
  if (asked.get("q")) {
    form.q.value = asked.get("q");
    form.site.value = asked.get("site") || "";
    search();
  }
})();
