/* amurlink interactive map: Leaflet (vendored under /static/vendor/leaflet/, no tiles, no
   network beyond this app, SVG renderer so no WebGL). Data from the page's data-src JSON
   endpoint, already protected for the reader; coordinates shown at the precision it says. */
(function () {
  "use strict";
  var el = document.getElementById("lmap");
  if (!el || typeof L === "undefined") { return; }
  var svgMap = document.getElementById("svg-map");
  if (svgMap) { svgMap.open = false; }
  var label = function (k) { return el.getAttribute("data-label-" + k) || k; };
  var COUNTRY = {CN: "#c0392b", RU: "#2c5f9e"};
  var map = L.map(el, {preferCanvas: false, attributionControl: false, zoomSnap: 0.25});
  L.control.scale({metric: true, imperial: false}).addTo(map);
  map.setView([43.5, 131], 7);
  var groups = {};
  var control = null;
  var legend = L.control({position: "bottomright"});
  var legendBox = null;
  legend.onAdd = function () {
    legendBox = L.DomUtil.create("div", "map-legend");
    return legendBox;
  };
  legend.addTo(map);
  /* two significant digits, never in exponent notation (850, 6.1, 0.00012) */
  var fmtNum = function (v) {
    var n = Number(Number(v).toPrecision(2));
    return Math.abs(n) >= 1 ? String(n) : n.toFixed(Math.max(0, 1 - Math.floor(Math.log10(Math.abs(n) || 1))));
  };

  /* rows: [css class, text]; ramps: {title, gradient (CSS), lo, hi} drawn as a colour bar */
  var legendState = {rows: [], ramps: []};

  /* the colour bars of the rasters on the map only */
  function showLegend() {
    renderLegend(legendState.rows, legendState.ramps.filter(function (r) {
      return groups[r.id] && map.hasLayer(groups[r.id]);
    }));
  }
  map.on("overlayadd overlayremove", showLegend);

  function renderLegend(rows, ramps) {
    if (!legendBox) { return; }
    while (legendBox.firstChild) { legendBox.removeChild(legendBox.firstChild); }
    var h = document.createElement("strong");
    h.textContent = label("legend");
    legendBox.appendChild(h);
    rows.forEach(function (r) {
      var line = document.createElement("div");
      var i = document.createElement("i");
      i.className = r[0];
      line.appendChild(i);
      line.appendChild(document.createTextNode(r[1]));
      legendBox.appendChild(line);
    });
    ramps.forEach(function (r) {
      var box = document.createElement("div");
      box.className = "ramp";
      box.appendChild(document.createTextNode(r.title));
      var bar = document.createElement("span");
      bar.className = "ramp-bar";
      bar.style.backgroundImage = r.gradient;  /* CSSOM, allowed by the CSP */
      box.appendChild(bar);
      var ends = document.createElement("span");
      ends.className = "ramp-ends";
      var a = document.createElement("span");
      a.textContent = fmtNum(r.lo);
      var b = document.createElement("span");
      b.textContent = fmtNum(r.hi) + (r.unit ? " " + r.unit : "");
      ends.appendChild(a);
      ends.appendChild(b);
      box.appendChild(ends);
      legendBox.appendChild(box);
    });
  }
  var decimals = 2;
  var coords = document.getElementById("map-coords");
  map.on("mousemove", function (e) {
    if (coords) {
      coords.textContent = e.latlng.lat.toFixed(decimals) + ", " + e.latlng.lng.toFixed(decimals);
    }
  });
  var speciesSel = document.getElementById("map-species");
  var yearSel = document.getElementById("map-year");
  var note = document.getElementById("map-note");

  function fill(select, values) {
    if (!select || select.options.length > 1) { return; }
    values.forEach(function (v) {
      var o = document.createElement("option");
      o.value = String(v);
      o.textContent = String(v);
      select.appendChild(o);
    });
  }

  /* text only: ids and names from the data never become markup */
  function text(lines) {
    var d = document.createElement("div");
    lines.forEach(function (t, i) {
      if (i) { d.appendChild(document.createElement("br")); }
      d.appendChild(document.createTextNode(t));
    });
    return d;
  }

  function ll(p) { return [p[1], p[0]]; }  /* [lon, lat] -> [lat, lon] */

  function draw(data) {
    decimals = data.decimals;
    fill(speciesSel, data.species);
    fill(yearSel, data.years);
    Object.keys(groups).forEach(function (k) { map.removeLayer(groups[k]); });
    if (control) { map.removeControl(control); }
    groups = {};
    var style = {parks: {color: "#5a8f3c", weight: 1, fillColor: "#a9d18e", fillOpacity: 0.35},
                 rivers: {color: "#3498db", weight: 2}, roads: {color: "#7f6a55", weight: 1.5}};
    ["parks", "rivers", "roads", "settlements"].forEach(function (kind) {
      var feats = (data.layers || {})[kind];
      if (!feats || !feats.length) { return; }
      var g = L.featureGroup();
      feats.forEach(function (f) {
        var layer;
        if (f.type === "point") {
          layer = L.circleMarker(ll(f.coords), {radius: 3, color: "#555", fillOpacity: 0.8});
        } else if (f.type === "polygon") {
          layer = L.polygon(f.coords.map(ll), style[kind] || style.parks);
        } else {
          layer = L.polyline(f.coords.map(ll), style[kind] || style.roads);
        }
        if (f.name) { layer.bindTooltip(text([f.name])); }
        g.addLayer(layer);
      });
      groups[kind] = g;
    });
    if (data.border && data.border.length) {
      groups.border = L.featureGroup(data.border.map(function (part) {
        return L.polyline(part.map(ll), {color: "#000", weight: 2.5, dashArray: "6 4"});
      }));
    }
    var fmt = function (v) { return Number(v).toFixed(decimals); };
    groups.stations = L.featureGroup(data.stations.map(function (s) {
      return L.circleMarker([s.lat, s.lon], {radius: 4, color: COUNTRY[s.country] || "#333",
                                             weight: 1, fillOpacity: 0.9})
        .bindPopup(text([label("station") + " " + s.id, fmt(s.lat) + ", " + fmt(s.lon)]));
    }));
    groups.detections = L.featureGroup(data.detections.map(function (d) {
      return L.circleMarker([d.lat, d.lon], {radius: 3 + Math.min(12, Math.sqrt(d.count) * 2),
                                             color: "#b9770e", fillColor: "#f39c12",
                                             weight: 1, fillOpacity: 0.5})
        .bindTooltip(text([label("count") + ": " + d.count]));
    }));
    groups.tracks = L.featureGroup(data.tracks.map(function (t) {
      return L.polyline(t.points, {color: "#8e44ad", weight: 2, opacity: 0.8})
        .bindTooltip(text([label("individual") + " " + t.id]));
    }));
    var ramps = [];
    var cor = data.corridors;
    if (cor) {
      (cor.overlays || []).forEach(function (o) {
        groups[o.id] = L.featureGroup([L.imageOverlay(o.url, o.bounds,
                                                      {opacity: 1, interactive: false})]);
        ramps.push({id: o.id, title: label(o.id), gradient: o.gradient, lo: o.lo, hi: o.hi,
                    unit: el.getAttribute("data-label-unit-" + o.id) || ""});
      });
      if (cor.pinch_points && cor.pinch_points.length) {
        groups.pinch = L.featureGroup(cor.pinch_points.map(function (p) {
          return L.circleMarker([p.lat, p.lon], {radius: 6, color: "#111", weight: 2,
                                                 fill: false})
            .bindTooltip(text([label("pinch") + " " + p.rank, label("peak") + ": " + p.peak]));
        }));
      }
      if (cor.cores && cor.cores.length) {
        groups.cores = L.featureGroup(cor.cores.map(function (c) {
          return L.polygon(c.coords.map(ll), {color: "#333", weight: 1.5, dashArray: "2 4",
                                              fill: false, interactive: false});
        }));
      }
      if (note && cor.touching) { note.hidden = false; }
    }
    if (data.sites && data.sites.length) {
      groups.sites = L.featureGroup(data.sites.map(function (s) {
        return L.circleMarker([s.lat, s.lon], {radius: 4 + Math.min(6, s.count - 1),
                                               color: COUNTRY[s.country] || "#333",
                                               weight: 2, fillColor: "#fff",
                                               fillOpacity: 0.9})
          .bindTooltip(text([label("site") + (s.count > 1 ? " x " + s.count : ""),
                             fmt(s.lat) + ", " + fmt(s.lon)]));
      }));
    }
    var overlays = {};
    var order = ["current", "corridor", "parks", "cores", "rivers", "roads", "settlements",
                 "border", "pinch", "detections", "tracks", "stations", "sites"];
    order.forEach(function (k) {
      /* the design map has no records: no empty switches for them */
      if (!groups[k] || (data.sites && !groups[k].getLayers().length)) { return; }
      /* one raster at a time: the least-cost corridor waits behind its switch when the
         current is drawn */
      if (!(k === "corridor" && groups.current)) { groups[k].addTo(map); }
      overlays[label(k)] = groups[k];
    });
    var rows = [];
    var has = function (k) { return groups[k] && groups[k].getLayers().length; };
    if (has("stations") || has("sites")) {
      rows.push(["cn", label("cn")], ["ru", label("ru")]);
    }
    [["sites", "site"], ["detections", "det"], ["tracks", "trk"], ["border", "brd"],
     ["parks", "park"], ["cores", "core"], ["rivers", "riv"], ["roads", "road"],
     ["settlements", "set"], ["pinch", "pinch"]].forEach(function (r) {
      if (has(r[0])) { rows.push([r[1], label(r[0])]); }
    });
    legendState = {rows: rows, ramps: ramps};
    showLegend();
    control = L.control.layers(null, overlays, {collapsed: false}).addTo(map);
    var bounds = L.latLngBounds([]);
    ["border", "stations", "parks", "sites", "current", "corridor"].forEach(function (k) {
      if (groups[k] && groups[k].getLayers().length) { bounds.extend(groups[k].getBounds()); }
    });
    if (bounds.isValid()) { map.fitBounds(bounds, {padding: [20, 20]}); }
    el.setAttribute("data-loaded", String(data.stations.length));
    el.setAttribute("data-detections", String(data.detections.length));
    el.setAttribute("data-tracks", String(data.tracks.length));
    el.setAttribute("data-sites", String((data.sites || []).length));
    el.setAttribute("data-overlays", String(cor ? (cor.overlays || []).length : 0));
  }

  function load() {
    var q = [];
    if (speciesSel && speciesSel.value) {
      q.push("species=" + encodeURIComponent(speciesSel.value));
    }
    if (yearSel && yearSel.value) { q.push("year=" + encodeURIComponent(yearSel.value)); }
    var url = el.getAttribute("data-src") + (q.length ? "?" + q.join("&") : "");
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(draw);
  }
  if (speciesSel) { speciesSel.addEventListener("change", load); }
  if (yearSel) { yearSel.addEventListener("change", load); }
  load();
}());
