/* Keyboard review: a = accept, r = reject (with the default reason unless one is typed),
   s = skip, n = next. No inline script: loaded from /static/ under the CSP.

   With a next proposal in the queue, a decision is posted in the background (fetch with
   keepalive, so it completes after the page is left) and the next proposal, already
   prefetched, opens at once; a refused decision is reported on the reviewer's next page
   (the server keeps the message). The last proposal of a queue posts the form normally. */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var busy = false;

  function nextHref() {
    var next = document.getElementById("next-link");
    return next ? next.href : null;
  }

  function decide(value) {
    if (!form || busy) { return; }
    var button = document.getElementById("btn-" + value);
    if (!button) { return; }
    var reason = document.getElementById("review-reason");
    if (value === "reject" && reason && !reason.value) {
      // a rejection needs a reason: the default one, which the reviewer may type over
      reason.value = reason.getAttribute("data-reject-default") || "";
    }
    busy = true;
    var next = nextHref();
    if (value === "skip" && next) {
      window.location.assign(next);
      return;
    }
    if (!next || !window.fetch) {
      button.click();
      return;
    }
    var data = new FormData(form);
    data.set("decision", value);
    window.fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", keepalive: true,
      headers: {"X-Review-Background": "1"}
    });
    window.location.assign(next);
  }

  document.addEventListener("keydown", function (event) {
    var t = event.target;
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) {
      return;
    }
    var key = (event.key || "").toLowerCase();
    if (key === "a") { event.preventDefault(); decide("accept"); }
    else if (key === "r") { event.preventDefault(); decide("reject"); }
    else if (key === "s") { event.preventDefault(); decide("skip"); }
    else if (key === "n") {
      var next = nextHref();
      if (next) { event.preventDefault(); window.location.assign(next); }
    }
  });
  if (form) {
    form.addEventListener("submit", function () { busy = true; });
  }
}());
