// Light and dark theme. Loaded in <head> (before the styles paint) on every page.
// The choice is "auto" (follow the system), "light" or "dark", kept in localStorage under "theme" —
// the same key and values Django's admin uses, so the admin follows the site and the other way round.
(function () {
  "use strict";
  const KEY = "theme";
  const MODES = ["auto", "light", "dark"];
  const ICONS = { auto: "bi-circle-half", light: "bi-sun-fill", dark: "bi-moon-stars-fill" };
  const system = window.matchMedia("(prefers-color-scheme: dark)");

  function stored() {
    let mode = null;
    try { mode = window.localStorage.getItem(KEY); } catch (error) { mode = null; }
    return MODES.includes(mode) ? mode : "auto";
  }

  function apply(mode) {
    const resolved = mode === "auto" ? (system.matches ? "dark" : "light") : mode;
    document.documentElement.setAttribute("data-bs-theme", resolved);
    document.documentElement.dataset.themeMode = mode;
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      const label = "Theme: " + mode + (mode === "auto" ? " (" + resolved + ")" : "") + ". Change";
      button.title = label;
      button.setAttribute("aria-label", label);
      const icon = button.querySelector("i");
      if (icon) icon.className = "bi " + ICONS[mode];
      const text = button.querySelector(".theme-label");
      if (text) text.textContent = mode;
    });
  }

  function next(mode) {
    // The admin's order: from auto, first to the opposite of what the system shows.
    if (mode === "auto") return system.matches ? "light" : "dark";
    if (mode === "light") return system.matches ? "dark" : "auto";
    return system.matches ? "auto" : "light";
  }

  apply(stored());
  system.addEventListener("change", function () { apply(stored()); });
  window.addEventListener("storage", function (event) { if (event.key === KEY) apply(stored()); });
  document.addEventListener("DOMContentLoaded", function () {
    apply(stored());
    document.querySelectorAll("[data-theme-toggle]").forEach(function (button) {
      button.addEventListener("click", function () {
        const mode = next(stored());
        try { window.localStorage.setItem(KEY, mode); } catch (error) { /* private mode: this page only */ }
        apply(mode);
      });
    });
  });
})();
