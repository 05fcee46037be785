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

  function card(result) {
    const button = el("button", { class: "btn btn-sm btn-primary", type: "button" }, "Add to library");
    button.addEventListener("click", () => add(result, button));
    return el("div", { class: "col" },
      el("div", { class: "card h-100 search-result" },
        el("div", { class: "card-body" },
          el("div", { class: "d-flex justify-content-between align-items-start gap-2" },
            el("h2", { class: "h6 card-title mb-1 result-title text-break" }, result.title),
            el("span", { class: "badge text-bg-secondary" }, Api.lists.sites[result.site] || result.site)),
          result.year ? el("div", { class: "small text-body-secondary" }, String(result.year)) : null,
          el("p", { class: "small mt-2 mb-0 text-body-secondary" }, (result.description || "").slice(0, 240))),
        el("div", { class: "card-footer bg-transparent border-0" }, button)));
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
    status.textContent = items.length + " result(s)" + (warnings.length ? " — " + warnings.join(" ") : "");
    results.replaceChildren(...items.map(card));
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
