// Makes each signature pad on a page (a canvas inside [data-pad]) a place to draw with a
// finger or a mouse, through signature_pad, and keeps what is drawn, scaled to trestle's
// 1000 x 300 grid, in the pad's hidden "drawing.KEY" field, which signing sends. Without
// script, or with a keyboard alone, the same form signs by name.
(function () {
  "use strict";
  var W = 1000, H = 300;

  function clamp(v, max) {
    return Math.min(Math.max(Math.round(v), 0), max);
  }

  // The canvases set up, held weakly: a page restored from htmx's history is new DOM, set
  // up again (a mark in the DOM would be restored with it and leave the pad dead).
  var ready = new WeakSet();

  function setUp(root) {
    root.querySelectorAll("[data-pad]").forEach(function (pad) {
      var canvas = pad.querySelector("canvas");
      if (ready.has(canvas)) { return; }
      ready.add(canvas);
      var field = pad.querySelector("input[name^='drawing.']");
      var sig = new SignaturePad(canvas, { penColor: "#12263f" });
      var width = 0;

      function keep() {
        var w = canvas.offsetWidth, h = canvas.offsetHeight;
        var strokes = sig.toData().map(function (group) {
          return group.points.map(function (p) {
            return [clamp(p.x * W / w, W), clamp(p.y * H / h, H)];
          });
        });
        field.value = strokes.length ? JSON.stringify({ strokes: strokes }) : "";
      }

      // The canvas draws at the screen's pixel density; a new width (a phone turned) starts
      // the drawing again rather than show it stretched.
      function fit() {
        if (!canvas.isConnected) {
          window.removeEventListener("resize", fit);
          return;
        }
        if (canvas.offsetWidth === width) { return; }
        width = canvas.offsetWidth;
        var ratio = Math.max(window.devicePixelRatio || 1, 1);
        canvas.width = canvas.offsetWidth * ratio;
        canvas.height = canvas.offsetHeight * ratio;
        canvas.getContext("2d").scale(ratio, ratio);
        sig.clear();
        keep();
      }

      sig.addEventListener("endStroke", keep);
      pad.querySelector("[data-pad-clear]").addEventListener("click", function () {
        sig.clear();
        keep();
      });
      window.addEventListener("resize", fit);
      fit();
    });
  }

  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (e) { setUp(e.detail.elt); });
})();
