// One series: seasons and episodes with their states, why a missing episode failed, the file's language and
// what the site offers; queue chosen, a season's or all missing episodes; ignore, delete a file; languages.
(function () {
  "use strict";
  const { el, formatBytes, toast } = window.Api;
  const root = document.getElementById("series-page");
  if (!root) return;
  const seriesId = root.dataset.seriesId;
  const base = "/api/anime/" + seriesId;
  const LANGUAGE_LABEL = Api.lists.languages;
  const STATUS_BADGE = {
    present: "text-bg-success", upgradable: "text-bg-info", missing: "text-bg-warning", unavailable: "text-bg-dark",
    queued: "text-bg-primary", downloading: "text-bg-primary", ignored: "text-bg-secondary",
  };
  const WANTED = ["missing", "upgradable"];
  let current = null;

  async function load() {
    const result = await Api.get(base);
    if (!result.ok) { document.getElementById("series-error").textContent = result.message; return; }
    render(result.payload);
  }

  function render(series) {
    current = series;
    document.getElementById("series-title").textContent = series.title + (series.year ? " (" + series.year + ")" : "");
    document.getElementById("series-description").textContent = series.description || "";
    document.getElementById("series-meta").textContent = [Api.lists.sites[series.site] || series.site, (series.genres || []).join(", "),
      series.missing_count + " missing", series.upgradable_count + " upgradable"].filter(Boolean).join(" · ");
    const cover = document.getElementById("series-cover");
    if (series.cover) { cover.src = series.cover; cover.classList.remove("d-none"); }
    const seasons = document.getElementById("seasons");
    // Seasons in order; films and specials last.
    const ordered = [...series.seasons].sort((a, b) => (a.is_specials - b.is_specials) || (a.number - b.number));
    seasons.replaceChildren(...ordered.map(season));
    renderLanguages(series);
  }

  function season(data) {
    const title = data.is_specials ? "Films & specials" : "Season " + data.number;
    const wanted = data.episodes.filter((item) => WANTED.includes(item.status)).map((item) => item.id);
    return el("section", { class: "mb-4 season", dataset: { season: data.number } },
      el("div", { class: "d-flex flex-wrap align-items-center gap-2 mb-1" },
        el("h2", { class: "h6 text-uppercase text-body-secondary season-title mb-0 me-auto" }, title),
        el("button", { class: "btn btn-sm btn-outline-primary", type: "button", "data-season-download": data.number, disabled: !wanted.length,
          title: wanted.length ? "Queue this season's " + wanted.length + " missing or upgradable episode(s)" : "Nothing missing in this season",
          onclick: () => queue({ episode_ids: wanted }) }, el("i", { class: "bi bi-download" }), " Download season (" + wanted.length + ")")),
      el("table", { class: "table table-sm align-middle episode-table" },
        el("tbody", {}, data.episodes.map(episode))));
  }

  function when(value) {
    return value ? new Date(value).toLocaleString([], { dateStyle: "short", timeStyle: "short", hourCycle: "h23" }) : "";
  }

  function failure(item) {
    const info = item.last_failure;
    if (!info) return null;
    const firstLine = info.error.split("\n")[0];
    return el("details", { class: "small mt-1 item-error episode-failure" },
      el("summary", { class: "text-danger-emphasis text-break" }, "Download failed" + (info.at ? " " + when(info.at) : "") + ": " + firstLine),
      el("pre", { class: "small mb-0 mt-1 text-wrap text-break" }, info.error));
  }

  function actions(item) {
    const menu = [
      el("li", {}, el("button", { class: "dropdown-item", type: "button", "data-action": "sources", onclick: () => showSources(item) },
        el("i", { class: "bi bi-broadcast" }), " Languages and hosters on the site")),
      el("li", {}, el("button", { class: "dropdown-item", type: "button", "data-action": item.state === "ignored" ? "unignore" : "ignore",
        onclick: () => ignore([item.id], item.state !== "ignored") },
        el("i", { class: item.state === "ignored" ? "bi bi-eye" : "bi bi-eye-slash" }), item.state === "ignored" ? " Stop ignoring" : " Ignore")),
      item.file_path ? el("li", {}, el("button", { class: "dropdown-item text-danger", type: "button", "data-action": "delete-file", onclick: () => deleteFile(item) },
        el("i", { class: "bi bi-trash" }), " Delete the file")) : null,
    ];
    return el("div", { class: "dropdown" },
      el("button", { class: "btn btn-sm btn-outline-secondary", type: "button", "data-bs-toggle": "dropdown", "aria-expanded": "false",
        "aria-label": "More for episode " + item.number, "data-episode-menu": item.id }, el("i", { class: "bi bi-three-dots" })),
      el("ul", { class: "dropdown-menu dropdown-menu-end" }, menu));
  }

  function fileText(item) {
    if (!item.file_size && !item.file_path) return "";
    const language = item.file_language ? LANGUAGE_LABEL[item.file_language] || item.file_language : "language unknown";
    return (item.file_size ? formatBytes(item.file_size) + " · " : "") + language;
  }

  function episode(item) {
    const title = item.title_de || item.title_en || "Episode " + item.number;
    const selectable = WANTED.includes(item.status);
    const offered = (item.languages_available || []).map((code) => LANGUAGE_LABEL[code] || code).join(", ");
    // Column widths and the phone layout (cells wrapping onto a second line) live in web/aniworld.css.
    return el("tr", { dataset: { episodeId: item.id, status: item.status } },
      el("td", { class: "episode-choose" }, el("input", { type: "checkbox", class: "form-check-input episode-choice", value: item.id,
        disabled: !selectable, "aria-label": "Choose episode " + item.number })),
      el("td", { class: "episode-number text-body-secondary" }, String(item.number)),
      el("td", { class: "episode-name" }, el("span", { class: "episode-title text-break" }, title),
        item.title_en && item.title_de ? el("div", { class: "small text-body-secondary text-break" }, item.title_en) : null,
        failure(item)),
      el("td", { class: "episode-languages small text-body-secondary", title: "Offered by the site" }, offered ? "Site: " + offered : ""),
      el("td", { class: "episode-size small file-info" }, fileText(item)),
      el("td", { class: "episode-status text-end" }, el("span", { class: "badge " + (STATUS_BADGE[item.status] || "text-bg-secondary"), title: item.status_reason || "" }, item.status)),
      el("td", { class: "episode-actions text-end" }, actions(item)));
  }

  async function showSources(item) {
    const row = root.querySelector('tr[data-episode-id="' + item.id + '"]');
    const next = row.nextElementSibling;
    if (next && next.classList.contains("sources-row")) { next.remove(); return; }
    const cell = el("td", { colspan: "7", class: "small" }, "Asking the site…");
    row.after(el("tr", { class: "sources-row", dataset: { sourcesFor: item.id } }, cell));
    const result = await Api.get(base + "/episodes/" + item.id + "/sources");
    if (!result.ok) { cell.textContent = result.message; return; }
    const languages = result.payload.languages;
    if (!languages.length) { cell.textContent = "The site offers no language for this episode."; return; }
    cell.replaceChildren(el("ul", { class: "list-unstyled mb-0 episode-sources" }, languages.map((language) =>
      el("li", { dataset: { language: language.language } },
        el("span", { class: "fw-semibold" }, language.label + ": "),
        language.hosters.map((hoster, index) => {
          const last = hoster.last_attempts[0];
          const note = !hoster.supported ? " (not supported)" : last ? " (last try " + last.result + ")" : "";
          return el("span", { class: hoster.supported ? "" : "text-body-secondary", title: last && last.error ? last.error : "" },
            (index ? ", " : "") + hoster.hoster + note);
        })))));
  }

  async function ignore(ids, ignored) {
    const result = await Api.post(base + "/episodes/ignore", { episode_ids: ids, ignored: ignored });
    toast(result.ok ? (ignored ? "Ignored" : "No longer ignored") : result.message, result.ok ? "success" : "danger");
    load();
  }

  async function deleteFile(item) {
    const question = "Delete the file of episode " + item.number + " (" + item.file_path + (item.file_size ? ", " + formatBytes(item.file_size) : "") +
      ") from disk? The episode then counts as missing.";
    if (!(await Api.confirm(question, "Delete file"))) return;
    const result = await Api.del(base + "/episodes/" + item.id + "/file");
    toast(result.ok ? "File deleted" : result.message, result.ok ? "success" : "danger");
    load();
  }

  // The series' language order: the global one from Settings, or its own (checked, best first).
  const languageList = document.getElementById("series-languages");
  Api.orderList.wire(languageList);
  function renderLanguages(series) {
    const own = !!(series.language_preference && series.language_preference.length);
    document.getElementById("language-effective").textContent = "Now: " +
      series.language_preference_effective.map((code) => LANGUAGE_LABEL[code] || code).join(" › ");
    document.getElementById(own ? "language-own" : "language-global").checked = true;
    if (!languageList.children.length) {
      languageList.replaceChildren(...Object.entries(LANGUAGE_LABEL).map(([value, label]) =>
        el("li", { class: "list-group-item d-flex align-items-center gap-2", dataset: { value: value } },
          el("input", { class: "form-check-input m-0", type: "checkbox", "aria-label": "Use " + label }),
          el("span", { class: "flex-grow-1" }, label),
          el("button", { class: "btn btn-sm btn-outline-secondary", type: "button", "data-move": "up", "aria-label": "Move " + label + " up" }, el("i", { class: "bi bi-arrow-up" })),
          el("button", { class: "btn btn-sm btn-outline-secondary", type: "button", "data-move": "down", "aria-label": "Move " + label + " down" }, el("i", { class: "bi bi-arrow-down" })))));
    }
    Api.orderList.set(languageList, series.language_preference_effective);
    showLanguageMode();
  }
  function showLanguageMode() {
    const own = document.getElementById("language-own").checked;
    languageList.querySelectorAll("input, button").forEach((control) => { control.disabled = !own; });
  }
  document.querySelectorAll("input[name=language-mode]").forEach((radio) => radio.addEventListener("change", showLanguageMode));
  document.getElementById("save-languages").addEventListener("click", async () => {
    const own = document.getElementById("language-own").checked;
    const order = own ? Api.orderList.read(languageList) : null;
    if (own && !order.length) return toast("Check at least one language.", "warning");
    const result = await Api.patch(base, { language_preference: order });
    toast(result.ok ? "Languages saved" : result.message, result.ok ? "success" : "danger");
    if (result.ok) render(result.payload);
  });

  async function queue(body) {
    body.priority = document.getElementById("priority").value;
    const result = await Api.post(base + "/download", body);
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
    const result = await Api.post(base + "/refresh");
    toast(result.ok ? "Refreshed from the site." : result.message, result.ok ? "success" : "danger");
    load();
  });
  ["download_complete", "download_failed"].forEach((type) => Realtime.on(type, () => load()));
  load();
})();
