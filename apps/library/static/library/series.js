// One series: seasons and episodes with their states; queue chosen or all missing episodes; refresh.
(function () {
  "use strict";
  const { el, formatBytes, toast } = window.Api;
  const root = document.getElementById("series-page");
  if (!root) return;
  const seriesId = root.dataset.seriesId;
  const LANGUAGE_LABEL = Api.lists.languages;
  const STATUS_BADGE = {
    present: "text-bg-success", upgradable: "text-bg-info", missing: "text-bg-warning", unavailable: "text-bg-dark",
    queued: "text-bg-primary", downloading: "text-bg-primary", ignored: "text-bg-secondary",
  };

  async function load() {
    const result = await Api.get("/api/anime/" + seriesId);
    if (!result.ok) { document.getElementById("series-error").textContent = result.message; return; }
    render(result.payload);
  }

  function render(series) {
    document.getElementById("series-title").textContent = series.title + (series.year ? " (" + series.year + ")" : "");
    document.getElementById("series-description").textContent = series.description || "";
    document.getElementById("series-meta").textContent = [series.site, (series.genres || []).join(", "),
      series.missing_count + " missing", series.upgradable_count + " upgradable"].filter(Boolean).join(" · ");
    const cover = document.getElementById("series-cover");
    if (series.cover) { cover.src = series.cover; cover.classList.remove("d-none"); }
    const seasons = document.getElementById("seasons");
    // Seasons in order; films and specials last.
    const ordered = [...series.seasons].sort((a, b) => (a.is_specials - b.is_specials) || (a.number - b.number));
    seasons.replaceChildren(...ordered.map(season));
  }

  function season(data) {
    const title = data.is_specials ? "Films & specials" : "Season " + data.number;
    return el("section", { class: "mb-4 season" },
      el("h2", { class: "h6 text-uppercase text-body-secondary season-title" }, title),
      el("table", { class: "table table-sm align-middle episode-table" },
        el("tbody", {}, data.episodes.map(episode))));
  }

  function episode(item) {
    const title = item.title_de || item.title_en || "Episode " + item.number;
    const selectable = item.status === "missing" || item.status === "upgradable";
    // Column widths and the phone layout (cells wrapping onto a second line) live in web/aniworld.css.
    return el("tr", { dataset: { episodeId: item.id } },
      el("td", { class: "episode-choose" }, el("input", { type: "checkbox", class: "form-check-input episode-choice", value: item.id,
        disabled: !selectable, "aria-label": "Choose episode " + item.number })),
      el("td", { class: "episode-number text-body-secondary" }, String(item.number)),
      el("td", { class: "episode-name" }, el("span", { class: "episode-title text-break" }, title),
        item.title_en && item.title_de ? el("div", { class: "small text-body-secondary text-break" }, item.title_en) : null),
      el("td", { class: "episode-languages small text-body-secondary" },
        (item.languages_available || []).map((code) => LANGUAGE_LABEL[code] || code).join(", ")),
      el("td", { class: "episode-size small" }, item.file_size ? formatBytes(item.file_size) : ""),
      el("td", { class: "episode-status text-end" }, el("span", { class: "badge " + (STATUS_BADGE[item.status] || "text-bg-secondary"), title: item.status_reason || "" }, item.status)));
  }

  async function queue(body) {
    body.priority = document.getElementById("priority").value;
    const result = await Api.post("/api/anime/" + seriesId + "/download", body);
    if (!result.ok) return toast(result.message, "danger");
    const skipped = result.payload.skipped || [];
    toast(result.payload.queued.length + " queued" + (skipped.length ? ", " + skipped.length + " skipped (" +
      [...new Set(skipped.map((s) => s.reason))].join("; ") + ")" : ""), "success");
    load();
  }

  document.getElementById("queue-selected").addEventListener("click", () => {
    const ids = [...document.querySelectorAll(".episode-choice:checked")].map((box) => Number(box.value));
    if (!ids.length) return toast("Choose episodes first.", "warning");
    queue({ episode_ids: ids });
  });
  document.getElementById("queue-missing").addEventListener("click", () => queue({ all_missing: true }));
  document.getElementById("refresh").addEventListener("click", async () => {
    const result = await Api.post("/api/anime/" + seriesId + "/refresh");
    toast(result.ok ? "Refreshed from the site." : result.message, result.ok ? "success" : "danger");
    load();
  });
  ["download_complete", "download_failed"].forEach((type) => Realtime.on(type, () => load()));
  load();
})();
