// Live updates without a framework: every element with data-live-src is re-fetched every
// data-live-every milliseconds and its content replaced. Polling pauses while the tab is hidden.
(function () {
  "use strict";
  function refresh(element) {
    if (document.hidden) { return; }
    fetch(element.getAttribute("data-live-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.redirected || response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.text() : null;
      })
      .then(function (html) {
        if (html !== null && html !== undefined) {
          element.innerHTML = html;
          element.setAttribute("data-live-updated", new Date().toISOString());
        }
      })
      .catch(function () { element.classList.add("live-offline"); });
  }
  function start() {
    document.querySelectorAll("[data-live-src]").forEach(function (element) {
      var every = parseInt(element.getAttribute("data-live-every") || "3000", 10);
      window.setInterval(function () { refresh(element); }, Math.max(every, 500));
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
