// What every page does beyond htmx.
//
// A live region (#live, see view::Live) asks for its page every few seconds. A page nobody
// can see asks nothing: a tab left in the background neither loads the server nor keeps its
// token in use. Shown again, it asks at once, so what changed meanwhile appears without
// waiting for the next round.
//
// A save that leads to its page with `?saved=1` says "Saved" once: the flag is taken out of
// the address, so reloading or bookmarking the page does not claim a save that did not happen.
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

  function forgetSaved() {
    var url = new URL(window.location.href);
    if (!url.searchParams.has("saved")) { return; }
    url.searchParams.delete("saved");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
  forgetSaved();
  document.addEventListener("htmx:pushedIntoHistory", forgetSaved);
  document.addEventListener("htmx:afterSettle", forgetSaved);
})();
