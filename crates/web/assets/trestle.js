// What every page does beyond htmx.
//
// A live region (#live, see view::Live) asks for its page every few seconds. A page nobody
// can see asks nothing: a tab left in the background neither loads the server nor keeps its
// token in use. Shown again, it asks at once, so what changed meanwhile appears without
// waiting for the next round.
//
// A save or a decision that leads to its page with `?saved=1` or `?decided=JOB` says so once:
// the flag is taken out of the address, so reloading or bookmarking the page does not claim
// another. Pages htmx swaps in get their plain address from the server (`HX-Replace-Url`,
// view::said_once), which keeps htmx's history right; this is for a page loaded whole, and
// runs before htmx reads the address.
(function () {
  "use strict";

  document.addEventListener("htmx:beforeRequest", function (e) {
    if (document.hidden && e.detail.elt && e.detail.elt.id === "live") {
      e.preventDefault();
    }
  });

  document.addEventListener("visibilitychange", function () {
    var live = document.getElementById("live");
    if (!document.hidden && live && window.htmx) {
      window.htmx.trigger(live, "trestle:shown");
    }
  });

  var ONCE = ["saved", "decided"];

  function forgetOnce() {
    var url = new URL(window.location.href);
    if (!ONCE.some(function (p) { return url.searchParams.has(p); })) { return; }
    ONCE.forEach(function (p) { url.searchParams.delete(p); });
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
  forgetOnce();
})();
