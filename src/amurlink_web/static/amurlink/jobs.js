/* amurlink jobs: unfinished jobs ask /jobs/<id>/status/ every 1.5 s and update their status,
   progress bar and message in place (no page reload while they run). When the job shown on a
   job page finishes, the page is loaded once more to list its result files. No libraries. */
(function () {
  "use strict";
  var selector = '[data-job][data-status="queued"], [data-job][data-status="running"]';
  var detail = document.getElementById("job-status");
  var warning = document.getElementById("no-worker");

  function update(el, s) {
    el.setAttribute("data-status", s.status);
    var status = el.classList.contains("status") ? el : el.querySelector(".status") || el;
    if (el.id === "job-status") { status = el; }
    status.textContent = s.statusLabel;
    var root = el.id === "job-status" ? document : el;
    var bar = root.querySelector("progress");
    if (bar) { bar.value = s.progress; bar.textContent = s.progress + "%"; }
    var pct = root.querySelector(".pct");
    if (pct) { pct.textContent = String(s.progress); }
    var msg = document.getElementById("job-message");
    if (msg && el.id === "job-status") { msg.textContent = s.message; }
    if (warning) { warning.hidden = s.workerAlive || s.finished; }
  }

  function poll() {
    var rows = document.querySelectorAll(selector);
    if (!rows.length) { return; }
    var pending = rows.length;
    Array.prototype.forEach.call(rows, function (el) {
      var id = el.getAttribute("data-job");
      fetch("/jobs/" + id + "/status/", {credentials: "same-origin",
                                          headers: {"Accept": "application/json"}})
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (s) {
            update(el, s);
            if (s.finished && el === detail) { window.location.reload(); return; }
          }
        })
        .catch(function () { /* try again at the next tick */ })
        .then(function () { pending -= 1; if (pending === 0) { window.setTimeout(poll, 1500); } });
    });
  }
  window.setTimeout(poll, 1000);
}());
