// Outbound dashboard: live refresh of marked parts of a page. Every page works without this
// script; it only saves reloading.
//
//   <div data-refresh="/app/inbox/list?..." data-every="5"> … </div>
//
// is re-fetched every 5 seconds (while the tab is visible) and its content replaced by the
// answer, which the server renders as a fragment when the request carries `X-Fragment: 1`.
// A fragment that says `data-done` stops its own refresh (a finished import).
// Forms marked `data-confirm="…"` ask before they submit.
(function () {
  "use strict";

  function refresh(element) {
    var url = element.getAttribute("data-refresh");
    var every = Math.max(1, parseInt(element.getAttribute("data-every") || "10", 10));
    var timer = null;

    function schedule() {
      timer = window.setTimeout(tick, every * 1000);
    }

    function tick() {
      if (document.hidden) {
        schedule();
        return;
      }
      fetch(url, { headers: { "X-Fragment": "1" }, credentials: "same-origin" })
        .then(function (response) {
          if (response.redirected || response.status === 401 || response.status === 403) {
            window.location.reload();
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) {
          if (html !== null && html !== undefined) {
            var focused = element.contains(document.activeElement);
            if (!focused) {
              element.innerHTML = html;
            }
          }
          if (!element.querySelector("[data-done]")) {
            schedule();
          }
        })
        .catch(schedule);
    }

    if (!element.querySelector("[data-done]")) {
      schedule();
    }
    return function () {
      window.clearTimeout(timer);
    };
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) {
          event.preventDefault();
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-refresh]").forEach(refresh);
    confirmations();
  });
})();
