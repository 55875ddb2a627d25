/* amurlink jobs: refresh the progress of unfinished jobs every two seconds (no libraries). */
(function () {
  "use strict";
  var rows = document.querySelectorAll('[data-job][data-status="queued"], [data-job][data-status="running"]');
  if (!rows.length) { return; }
  window.setTimeout(function () { window.location.reload(); }, 2000);
}());
