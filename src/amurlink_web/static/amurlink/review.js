/* Keyboard review: a = accept, r = reject, s = skip (the server then opens the next
   proposal of the same queue). No inline script: loaded from /static/ under the CSP. */
(function () {
  "use strict";
  var form = document.getElementById("review-form");
  var busy = false;
  function decide(value) {
    if (!form || busy) { return; }
    var button = document.getElementById("btn-" + value);
    if (!button) { return; }
    busy = true;
    button.click();
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
      var next = document.getElementById("next-link");
      if (next) { event.preventDefault(); window.location.assign(next.href); }
    }
  });
  if (form) {
    form.addEventListener("submit", function () { busy = true; });
  }
}());
