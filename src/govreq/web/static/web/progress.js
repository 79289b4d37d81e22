// Progress on ordinary form posts (uploads, sending a request): a form marked data-progress shows
// its .htmx-indicator while the browser sends it (the same class htmx uses for its own requests),
// and a second click does not send it twice. No inline script: served from 'self' under the CSP.
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-progress")) return;
  if (form.classList.contains("htmx-request")) { event.preventDefault(); return; }
  form.classList.add("htmx-request");
  form.setAttribute("aria-busy", "true");
});
// Back to a page from the history cache: nothing is in progress any more.
window.addEventListener("pageshow", function () {
  document.querySelectorAll("form[data-progress].htmx-request").forEach(function (form) {
    form.classList.remove("htmx-request");
    form.removeAttribute("aria-busy");
  });
});
