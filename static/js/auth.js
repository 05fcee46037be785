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
      await logIn(setupForm, password);
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
