// Until a staff member chooses a time zone, tell the console the browser's own (once): the next
// page shows times in it (no reload under the reader's eyes). The CSRF token comes from the page.
(function () {
  var tag = document.currentScript;
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { return; }
  if (!zone || !tag) { return; }
  var body = new URLSearchParams({ time_zone: zone });
  fetch(tag.dataset.url, {
    method: "POST",
    body: body,
    credentials: "same-origin",
    headers: { "X-CSRFToken": tag.dataset.csrf },
  }).catch(function () { /* the region's zone stays until they choose one */ });
})();
