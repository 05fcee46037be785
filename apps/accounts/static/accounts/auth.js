// Setup, login and logout forms: they talk to the JSON auth API (through api.js) and show its errors.
(function () {
  "use strict";
  const postJson = window.Api.post;
  const getJson = window.Api.get;
  const orderList = window.Api.orderList;

  function showError(form, message) {
    const box = form.querySelector("#form-error");
    box.textContent = message;
    box.classList.remove("d-none");
  }

  function safeNext(value) {
    return value && value.startsWith("/") && !value.startsWith("//") ? value : "/";
  }

  async function logIn(form, password) {
    const result = await postJson("/api/auth/login", { password: password });
    if (!result.ok) return showError(form, result.message);
    window.location.assign(safeNext(form.dataset.next));
  }

  // First-run wizard. Step 1 creates the owner and starts a session; step 2 (same page, the
  // server no longer serves /setup once the owner exists) sets library folder and language order.
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
      orderList.set(document.getElementById("language-order"), config.payload.language_preference || []);
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
      if (!result.ok) return showError(setupForm, result.message);
      const login = await postJson("/api/auth/login", { password: password });
      if (!login.ok) return showError(setupForm, login.message);
      await showLibraryStep();
    });
  }

  const libraryForm = document.getElementById("library-form");
  if (libraryForm) {
    const languageList = document.getElementById("language-order");
    orderList.wire(languageList);
    // Served straight at step 2 (owner exists and is logged in, wizard not finished): prefill it.
    if (!document.getElementById("setup-step-library").classList.contains("d-none")) showLibraryStep();
    libraryForm.addEventListener("submit", async function (event) {
      event.preventDefault();
      const errorBox = document.getElementById("library-error");
      errorBox.classList.add("d-none");
      const result = await postJson("/api/setup", {
        library_path: libraryForm.library_path.value.trim(),
        language_preference: orderList.read(languageList),
      });
      if (result.ok || result.status === 409) return window.location.assign("/");
      const error = result.payload && result.payload.error;
      showFieldErrors(libraryForm, error && error.details);
      errorBox.textContent = result.message;
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
