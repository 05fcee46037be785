// The settings page: loads /api/config into the form, saves with PUT, shows every field error,
// runs the live checks (/api/config/validate) and lists recent changes.
(function () {
  "use strict";

  const form = document.getElementById("settings-form");
  if (!form) return;
  const statusBox = document.getElementById("settings-status");

  const CALLS = { GET: Api.get, POST: Api.post, PUT: Api.put, DELETE: Api.del };

  function api(method, url, body) {
    return CALLS[method](url, body);
  }

  function showStatus(kind, message) {
    statusBox.className = "alert alert-" + kind;
    statusBox.textContent = message;
  }

  // --- ordered checkbox lists (languages, hosters): Api.orderList -----------------------
  const wireOrderList = Api.orderList.wire;
  const setOrderList = Api.orderList.set;
  const readOrderList = Api.orderList.read;

  document.querySelectorAll(".order-list").forEach(wireOrderList);

  // --- form <-> config -------------------------------------------------------------------
  function lookup(config, name) {
    return name.split(".").reduce(function (value, part) { return value == null ? value : value[part]; }, config);
  }

  function fill(config) {
    form.querySelectorAll("[name]").forEach(function (input) {
      const value = lookup(config, input.name);
      if (value === undefined) return;
      const type = input.dataset.type;
      if (type === "bool") input.checked = Boolean(value);
      else if (type === "lines") input.value = (value || []).join("\n");
      else if (input.dataset.scale) input.value = Math.round(value / Number(input.dataset.scale));
      else input.value = value === null ? "" : value;
    });
    document.querySelectorAll(".order-list").forEach(function (list) {
      setOrderList(list, config[list.dataset.field] || []);
    });
    const events = config.notification_events || [];
    document.querySelectorAll("#notification_events input").forEach(function (box) {
      box.checked = events.includes(box.value);
    });
    document.getElementById("settings-revision").textContent =
      "revision " + config.revision + (config.updated_at ? " · saved " + new Date(config.updated_at).toLocaleString() : "");
  }

  function collect() {
    const body = {};
    form.querySelectorAll("[name]").forEach(function (input) {
      const type = input.dataset.type;
      let value;
      if (type === "bool") value = input.checked;
      else if (type === "lines") value = input.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
      else if (type === "int" || type === "float") {
        value = input.value.trim() === "" ? null : Number(input.value);
        if (value !== null && input.dataset.scale) value = Math.round(value * Number(input.dataset.scale));
      } else value = input.value.trim();
      const parts = input.name.split(".");
      if (parts.length === 2) {
        body[parts[0]] = body[parts[0]] || {};
        body[parts[0]][parts[1]] = value;
      } else {
        body[input.name] = value;
      }
    });
    document.querySelectorAll(".order-list").forEach(function (list) {
      body[list.dataset.field] = readOrderList(list);
    });
    body.notification_events = Array.from(document.querySelectorAll("#notification_events input:checked"))
      .map(function (box) { return box.value; });
    return body;
  }

  // Each message under its own input: "provider_urls.aniworld" goes under the aniworld.to URL only; the
  // field's own box ("provider_urls") speaks only when no single input is to blame.
  function showFieldErrors(details) {
    details = details || {};
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      const name = box.dataset.errorFor;
      const hasParts = Object.keys(details).some(function (key) { return key.startsWith(name + "."); });
      const messages = hasParts ? [] : details[name] || [];
      box.textContent = messages.join(" ");
      const inputs = name.includes(".") ? '[name="' + name + '"]' : '[name="' + name + '"], [name^="' + name + '."]';
      form.querySelectorAll(inputs).forEach(function (input) {
        if (hasParts) return;  // the parts mark their own inputs
        input.classList.toggle("is-invalid", messages.length > 0);
      });
    });
    const first = form.querySelector(".is-invalid");
    if (first) first.focus();
  }

  // --- history and checks -------------------------------------------------------------------
  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function shown(value) {
    if (value === null || value === undefined || value === "") return "—";
    return typeof value === "string" ? value : JSON.stringify(value);
  }

  async function loadHistory() {
    const result = await api("GET", "/api/config/history?limit=20");
    if (!result.ok) return;
    const rows = document.getElementById("history-rows");
    rows.replaceChildren();
    result.payload.forEach(function (change) {
      const tr = document.createElement("tr");
      tr.append(
        cell(new Date(change.changed_at).toLocaleString()),
        cell(change.actor),
        cell(change.field),
        cell(shown(change.old_value)),
        cell(shown(change.new_value))
      );
      rows.append(tr);
    });
  }

  function showChecks(report) {
    const list = document.getElementById("check-list");
    list.replaceChildren();
    Object.entries(report.checks).forEach(function (entry) {
      const li = document.createElement("li");
      const icon = document.createElement("i");
      icon.className = "bi me-2 " + (entry[1].ok ? "bi-check-circle text-success" : "bi-x-circle text-danger");
      const name = document.createElement("strong");
      name.textContent = (entry[1].label || entry[0]) + ": ";
      li.append(icon, name, document.createTextNode(entry[1].detail));
      list.append(li);
    });
    document.getElementById("check-results").classList.remove("d-none");
  }

  async function check() {
    const result = await api("POST", "/api/config/validate", collect());
    if (!result.ok) return showStatus("danger", "The check failed (HTTP " + result.status + ").");
    showFieldErrors(result.payload.errors);
    showChecks(result.payload);
    previewTemplate();
    showStatus(result.payload.valid ? "success" : "warning",
      result.payload.valid ? "Everything checks out (nothing saved yet)." : "Some checks failed; see below.");
  }

  // What was loaded or saved last: leaving with anything else asks first.
  let saved = null;
  function remember() { saved = JSON.stringify(collect()); }
  function unsaved() { return saved !== null && JSON.stringify(collect()) !== saved; }
  window.addEventListener("beforeunload", function (event) {
    if (!unsaved()) return;
    event.preventDefault();
    event.returnValue = "";
  });

  async function load() {
    const result = await api("GET", "/api/config");
    if (!result.ok) return showStatus("danger", "Could not load the settings (HTTP " + result.status + ").");
    fill(result.payload);
    remember();
    loadHistory();
    previewTemplate();
  }

  // The naming preview follows the template as it is typed, for one of the owner's own series.
  let previewTimer = null;
  async function previewTemplate() {
    const template = form.naming_template.value;
    const result = await api("POST", "/api/config/naming-preview", { naming_template: template });
    if (!result.ok || form.naming_template.value !== template) return;
    const box = document.getElementById("template-preview");
    const errorBox = form.querySelector('[data-error-for="naming_template"]');
    const data = result.payload;
    box.textContent = data.ok ? "Example (" + data.sample + "): " + data.preview : "";
    errorBox.textContent = data.problems.join(" ");
    form.naming_template.classList.toggle("is-invalid", !data.ok);
  }
  form.naming_template.addEventListener("input", function () {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(previewTemplate, 250);
  });

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const result = await api("PUT", "/api/config", collect());
    if (result.ok) {
      showFieldErrors({});
      fill(result.payload);
      remember();
      loadHistory();
      return showStatus("success", "Saved. Every worker uses the new settings from now on.");
    }
    const error = result.payload && result.payload.error;
    showFieldErrors(error && error.details);
    showStatus("danger", error ? error.message : "Saving failed (HTTP " + result.status + ").");
  });

  document.getElementById("check-settings").addEventListener("click", check);
  document.getElementById("preview-template").addEventListener("click", check);
  load();
})();
