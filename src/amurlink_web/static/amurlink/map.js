/* amurlink map: pan (drag), zoom (wheel, +/-) and layer toggles. No libraries, no network. */
(function () {
  "use strict";
  var svg = document.getElementById("amurlink-map");
  if (!svg) { return; }
  var base = svg.getAttribute("viewBox").split(" ").map(Number);
  var box = base.slice();
  function apply() { svg.setAttribute("viewBox", box.join(" ")); }
  function zoom(factor, cx, cy) {
    var w = box[2] * factor, h = box[3] * factor;
    if (w < base[2] / 50 || w > base[2] * 4) { return; }
    box = [cx - (cx - box[0]) * factor, cy - (cy - box[1]) * factor, w, h];
    apply();
  }
  function toSvg(evt) {
    var r = svg.getBoundingClientRect();
    return [box[0] + (evt.clientX - r.left) / r.width * box[2],
            box[1] + (evt.clientY - r.top) / r.height * box[3]];
  }
  svg.addEventListener("wheel", function (evt) {
    evt.preventDefault();
    var p = toSvg(evt);
    zoom(evt.deltaY < 0 ? 0.8 : 1.25, p[0], p[1]);
  }, { passive: false });
  var drag = null;
  svg.addEventListener("pointerdown", function (evt) {
    drag = { x: evt.clientX, y: evt.clientY, box: box.slice() };
    svg.setPointerCapture(evt.pointerId);
  });
  svg.addEventListener("pointermove", function (evt) {
    if (!drag) { return; }
    var r = svg.getBoundingClientRect();
    box[0] = drag.box[0] - (evt.clientX - drag.x) / r.width * box[2];
    box[1] = drag.box[1] - (evt.clientY - drag.y) / r.height * box[3];
    apply();
  });
  svg.addEventListener("pointerup", function () { drag = null; });
  document.addEventListener("keydown", function (evt) {
    if (evt.target && /INPUT|SELECT|TEXTAREA/.test(evt.target.tagName)) { return; }
    var cx = box[0] + box[2] / 2, cy = box[1] + box[3] / 2;
    if (evt.key === "+" || evt.key === "=") { zoom(0.8, cx, cy); }
    if (evt.key === "-") { zoom(1.25, cx, cy); }
  });
  var reset = document.getElementById("map-reset");
  if (reset) { reset.addEventListener("click", function () { box = base.slice(); apply(); }); }
  Array.prototype.forEach.call(document.querySelectorAll("[data-toggle]"), function (input) {
    input.addEventListener("change", function () {
      var layer = svg.querySelector('[data-layer="' + input.getAttribute("data-toggle") + '"]');
      if (layer) { layer.classList.toggle("hidden", !input.checked); }
    });
  });
}());
