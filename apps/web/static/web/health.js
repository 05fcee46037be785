// Renders /health into the dashboard's status cards (HTMX fetches it; we draw it).
(function () {
  "use strict";
  const LABELS = { database: "Database", redis: "Redis", workers: "Workers", library: "Library", disk: "Disk space" };
  const section = document.getElementById("system-health");
  if (!section) return;

  function card(name, check) {
    const col = document.createElement("div");
    col.className = "col-6 col-md-4 col-lg";
    const icon = check.ok ? "bi-check-circle-fill text-success" : "bi-exclamation-triangle-fill text-danger";
    col.innerHTML =
      '<div class="card health-card h-100" data-check="' + name + '"><div class="card-body p-2 p-lg-3">' +
      '<div class="d-flex align-items-center gap-2"><i class="bi ' + icon + '"></i>' +
      '<span class="fw-semibold"></span></div><div class="small text-body-secondary mt-1 detail"></div></div></div>';
    col.querySelector(".fw-semibold").textContent = LABELS[name] || name;
    col.querySelector(".detail").textContent = check.detail;
    return col;
  }

  section.addEventListener("htmx:afterRequest", function (event) {
    let report;
    try { report = JSON.parse(event.detail.xhr.responseText); } catch (e) { return; }
    if (!report.checks) return;
    section.replaceChildren(...Object.entries(report.checks).map(([name, check]) => card(name, check)));
  });
})();
