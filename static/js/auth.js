// Setup, login and logout forms: they talk to the JSON auth API and show its errors.
(function () {
  "use strict";

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function postJson(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let payload = null;
    try { payload = await response.json(); } catch (e) { payload = null; }
    return { ok: response.ok, status: response.status, payload: payload };
  }

  function showError(form, message) {
    const box = form.querySelector("#form-error");
    box.textContent = message;
    box.classList.remove("d-none");
  }

  function errorMessage(result) {
    const error = result.payload && result.payload.error;
    if (!error) return "The server answered " + result.status + ".";
    const problems = error.details && error.details.problems;
    return problems ? problems.join(" ") : error.message;
  }

  function safeNext(value) {
    return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
  }

  async function logIn(form, password) {
    const result = await postJson("/api/auth/login", { password: password });
    if (!result.ok) return showError(form, errorMessage(result));
    window.location.assign(safeNext(form.dataset.next));
  }

  // First-run wizard. Step 1 creates the owner and starts a session; step 2 (same page, the
  // server no longer serves /setup once the owner exists) sets library folder and language order.
  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let payload = null;
    try { payload = await response.json(); } catch (e) { payload = null; }
    return { ok: response.ok, status: response.status, payload: payload };
  }

  function wireLanguageOrder(list) {
    list.addEventListener("click", function (event) {
      const button = event.target.closest("button[data-move]");
      if (!button) return;
      const item = button.closest("li");
      if (button.dataset.move === "up" && item.previousElementSibling) {
        list.insertBefore(item, item.previousElementSibling);
      } else if (button.dataset.move === "down" && item.nextElementSibling) {
        list.insertBefore(item.nextElementSibling, item);
      }
      button.focus();
    });
  }

  function applyLanguageOrder(list, order) {
    const items = Array.from(list.querySelectorAll("li[data-value]"));
    items.forEach(function (item) { item.querySelector("input").checked = order.includes(item.dataset.value); });
    order.slice().reverse().forEach(function (value) {
      const item = items.find(function (candidate) { return candidate.dataset.value === value; });
      if (item) list.prepend(item);
    });
  }

  function chosenLanguages(list) {
    return Array.from(list.querySelectorAll("li[data-value]"))
      .filter(function (item) { return item.querySelector("input").checked; })
      .map(function (item) { return item.dataset.value; });
  }

  function showFieldErrors(form, details) {
    form.querySelectorAll("[data-error-for]").forEach(function (box) {
      const messages = (details && details[box.dataset.errorFor]) || [];
      box.textContent = messages.join(" ");
      const input = form.querySelector('[name="' + box.dataset.errorFor + '"]');
      if (input) input.classList.toggle("is-invalid", messages.length > 0);
    });
  }

  async function showLibraryStep() {
    document.getElementById("setup-step-password").classList.add("d-none");
    document.getElementById("setup-step-library").classList.remove("d-none");
    document.getElementById("setup-step-number").textContent = "2";
    const libraryForm = document.getElementById("library-form");
    const config = await getJson("/api/config");
    if (config.ok && config.payload) {
      libraryForm.library_path.value = config.payload.library_path || "";
      applyLanguageOrder(document.getElementById("language-order"), config.payload.language_preference || []);
    }
    libraryForm.library_path.focus();
  }

  const setupForm = document.getElementById("setup-form");
  if (setupForm) {
    setupForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const password = setupForm.password.value;
      if (password !== setupForm.password_confirm.value) {
        return showError(setupForm, "The two passwords differ.");
      }
      const result = await postJson("/api/auth/setup", { password: password });
      if (!result.ok) return showError(setupForm, errorMessage(result));
      const login = await postJson("/api/auth/login", { password: password });
      if (!login.ok) return showError(setupForm, errorMessage(login));
      await showLibraryStep();
    });
  }

  const libraryForm = document.getElementById("library-form");
  if (libraryForm) {
    const languageList = document.getElementById("language-order");
    wireLanguageOrder(languageList);
    // Served straight at step 2 (owner exists and is logged in, wizard not finished): prefill it.
    if (!document.getElementById("setup-step-library").classList.contains("d-none")) showLibraryStep();
    libraryForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const errorBox = document.getElementById("library-error");
      errorBox.classList.add("d-none");
      const result = await postJson("/api/setup", {
        library_path: libraryForm.library_path.value.trim(),
        language_preference: chosenLanguages(languageList),
      });
      if (result.ok || result.status === 409) return window.location.assign("/");
      const error = result.payload && result.payload.error;
      showFieldErrors(libraryForm, error && error.details);
      errorBox.textContent = errorMessage(result);
      errorBox.classList.remove("d-none");
    });
  }

  const loginForm = document.getElementById("login-form");
  if (loginForm) {
    loginForm.addEventListener("submit", function (event) {
      event.preventDefault();
      logIn(loginForm, loginForm.password.value);
    });
  }

  const logoutButton = document.getElementById("logout-button");
  if (logoutButton) {
    logoutButton.addEventListener("click", async function () {
      await postJson("/api/auth/logout");
      window.location.assign("/login");
    });
  }
})();
