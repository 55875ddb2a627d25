/* Keyboard review: a = accept, r = reject (with the default reason unless one is typed),
   s = skip, n = next. No inline script: loaded from /static/ under the CSP.

   The next proposal of the queue (the page's #next-link) is fetched, with its photos, while
   the reviewer looks at this one. A decision is posted in the background and the next
   proposal replaces this one at once (the address follows with history.pushState); a
   refused decision is reported in a notice that stays on screen. Without fetch, or on the
   last proposal of a queue, the form is posted as a normal page. */
(function () {
  "use strict";
  var busy = false;
  var pages = {};

  function load(url) {
    if (!pages[url]) {
      pages[url] = window.fetch(url, {credentials: "same-origin"}).then(function (r) {
        if (!r.ok) { throw new Error(String(r.status)); }
        return r.text();
      }).then(function (text) {
        return new window.DOMParser().parseFromString(text, "text/html");
      });
      pages[url].catch(function () { delete pages[url]; });
    }
    return pages[url];
  }

  function nextHref() {
    var next = document.getElementById("next-link");
    return next ? next.href : null;
  }

  function prefetchNext() {
    var next = nextHref();
    if (!next || !window.fetch || !window.DOMParser) { return; }
    load(next).then(function (doc) {
      var images = [];
      doc.querySelectorAll("main img").forEach(function (img) {
        images.push(new Promise(function (done) {
          var pre = new window.Image();
          pre.onload = pre.onerror = done;
          pre.src = img.getAttribute("src");
        }));
      });
      return Promise.all(images);
    }).then(function () {
      // the next proposal and its pictures are here: a decision now shows it at once
      document.documentElement.setAttribute("data-next-ready", next);
    }).catch(function () {});
  }

  function notice(text) {
    var box = document.getElementById("review-notice");
    if (!box) {
      box = document.createElement("p");
      box.id = "review-notice";
      box.className = "review-notice";
      document.body.appendChild(box);
    }
    box.textContent = text;
  }

  function show(url, doc) {
    var main = document.querySelector("main");
    var fresh = doc.querySelector("main");
    if (!main || !fresh) { window.location.assign(url); return; }
    document.documentElement.removeAttribute("data-next-ready");
    main.replaceWith(document.importNode(fresh, true));
    document.title = doc.title;
    window.history.pushState({review: url}, "", url);
    busy = false;
    prefetchNext();
  }

  function decide(value) {
    var form = document.getElementById("review-form");
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
    if (!next || !window.fetch || !window.DOMParser) {
      button.click();
      return;
    }
    if (value !== "skip") {
      var data = new window.FormData(form);
      data.set("decision", value);
      var title = document.getElementById("review-title");
      var what = title ? title.textContent : "";
      window.fetch(form.action, {
        method: "POST", body: data, credentials: "same-origin",
        headers: {"X-Review-Background": "1"}
      }).then(function (r) {
        return r.json().then(function (j) {
          if (!r.ok || !j.ok) { notice(what + " " + (j.message || r.status)); }
        });
      }).catch(function () { notice(what + " ?"); });
    }
    load(next).then(function (doc) { show(next, doc); })
      .catch(function () { window.location.assign(next); });
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
    else if (key === "n") { event.preventDefault(); decide("skip"); }
  });
  document.addEventListener("submit", function (event) {
    if (event.target && event.target.id === "review-form") { busy = true; }
  });
  window.addEventListener("popstate", function () { window.location.reload(); });
  prefetchNext();
}());
