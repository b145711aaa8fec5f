// kvtriage HTML report: zoom by dragging across the timeline, copy buttons, open folded
// evidence for printing. The page reads the same without it. Bundle text is only ever set
// with textContent, never parsed as markup.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("nojs");
  root.classList.add("js");
  var NS = "http://www.w3.org/2000/svg";

  function copyFallback(text) {
    var ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    try { document.execCommand("copy"); } catch (e) { /* nothing to do */ }
    document.body.removeChild(ta);
  }
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (b) {
    b.addEventListener("click", function () {
      var el = document.getElementById(b.getAttribute("data-for"));
      var text = el ? el.textContent : "";
      var done = function () { b.textContent = "Copied"; setTimeout(function () { b.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { copyFallback(text); done(); });
      } else { copyFallback(text); done(); }
    });
  });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });

  var dataEl = document.getElementById("plot-data");
  if (dataEl) { setupPlot(JSON.parse(dataEl.textContent)); }
  window.addEventListener("load", function () {
    root.setAttribute("data-ready-ms", String(Math.round(performance.now())));
  });

  function setupPlot(D) {
    var NICE = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
    var ROW_Y = [6, 14, 22, 30], ROW_H = 7, W = 1000;
    var plot = document.getElementById("plot");
    var svgs = plot.querySelectorAll("svg.lane");
    var axis = document.getElementById("axis");
    var sel = document.getElementById("sel");
    var reset = document.getElementById("zoom-reset");
    var status = document.getElementById("zoom-status");
    var bucketSize = document.getElementById("bucket-size");
    var full = [D.t0, D.t1];
    var view = full.slice();

    function nice(target) {
      for (var i = 0; i < NICE.length; i++) {
        if (NICE[i] >= D.base && NICE[i] % D.base === 0 && NICE[i] >= target) { return NICE[i]; }
      }
      return NICE[NICE.length - 1];
    }
    function pad(n) { return (n < 10 ? "0" : "") + n; }
    function fmt(t, withDate) {
      var d = new Date((t + D.off) * 1000);
      var hm = pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
      return withDate ? pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " + hm : hm;
    }
    function fmtFull(t) {
      var d = new Date((t + D.off) * 1000);
      return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
        pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds());
    }
    function unit(s) {
      if (s % 86400 === 0) { return (s / 86400) + " day(s)"; }
      if (s % 3600 === 0) { return (s / 3600) + " hour(s)"; }
      return (s / 60) + " minute(s)";
    }
    function opacity(c, max) {
      if (!c || !max) { return 0; }
      return 0.2 + 0.8 * (Math.log(1 + c) / Math.log(1 + max));
    }
    function drawAxis(a, b) {
      while (axis.firstChild) { axis.removeChild(axis.firstChild); }
      var span = Math.max(b - a, 1), step = NICE[NICE.length - 1];
      for (var i = 0; i < NICE.length; i++) { if (Math.floor(span / NICE[i]) <= 8) { step = NICE[i]; break; } }
      var t = Math.floor((a + D.off) / step) * step - D.off;
      if (t < a) { t += step; }
      for (var n = 0; t <= b && n < 20; n++, t += step) {
        var s = document.createElement("span");
        s.style.left = ((t - a) / span * 100).toFixed(2) + "%";
        s.textContent = fmt(t, span > 86400);
        axis.appendChild(s);
      }
    }
    // `initial`: the page already shows the whole range as Rust drew it (same buckets).
    function render(initial) {
      var a = view[0], b = view[1], span = Math.max(b - a, 1);
      var bucket = nice(span / D.cols);
      if (initial) { finish(a, b, bucket); return; }
      var x = function (t) { return (t - a) / span * W; };
      var max = [0, 0, 0, 0], bins = [];
      D.lanes.forEach(function (L) {
        var m = {};
        L.m.forEach(function (r) {
          var t = (D.b0 + r[0]) * D.base;
          if (t + D.base <= a || t >= b) { return; }
          var k = Math.floor(t / bucket), e = m[k] || (m[k] = [0, 0, 0, 0]);
          for (var i = 0; i < 4; i++) { e[i] += r[i + 1]; }
        });
        Object.keys(m).forEach(function (k) { for (var i = 0; i < 4; i++) { max[i] = Math.max(max[i], m[k][i]); } });
        bins.push(m);
      });
      Array.prototype.forEach.call(svgs, function (svg, li) {
        var g = svg.querySelector("g.heat");
        while (g.firstChild) { g.removeChild(g.firstChild); }
        var m = bins[li] || {}, bw = Math.max(bucket / span * W, 0.5);
        Object.keys(m).forEach(function (k) {
          var t = Number(k) * bucket;
          for (var i = 0; i < 4; i++) {
            var c = m[k][i];
            if (!c) { continue; }
            var r = document.createElementNS(NS, "rect");
            r.setAttribute("class", "h" + i);
            r.setAttribute("x", x(t).toFixed(2));
            r.setAttribute("width", bw.toFixed(2));
            r.setAttribute("y", ROW_Y[i]);
            r.setAttribute("height", ROW_H);
            r.setAttribute("fill-opacity", opacity(c, max[i]).toFixed(2));
            var title = document.createElementNS(NS, "title");
            title.textContent = c + " " + D.rows[i] + " from " + fmt(t, span > 86400);
            r.appendChild(title);
            g.appendChild(r);
          }
        });
        Array.prototype.forEach.call(svg.querySelectorAll("rect.cov"), function (r) {
          var s = Math.max(Number(r.getAttribute("data-s")), a), e = Math.min(Number(r.getAttribute("data-e")), b);
          r.style.display = e < s ? "none" : "";
          r.setAttribute("x", x(s).toFixed(2));
          r.setAttribute("width", Math.max(x(e) - x(s), 0.5).toFixed(2));
        });
        Array.prototype.forEach.call(svg.querySelectorAll("line[data-t]"), function (l) {
          var t = Number(l.getAttribute("data-t"));
          l.style.display = t < a || t > b ? "none" : "";
          l.setAttribute("x1", x(t).toFixed(2));
          l.setAttribute("x2", x(t).toFixed(2));
        });
      });
      drawAxis(a, b);
      finish(a, b, bucket);
    }
    function finish(a, b, bucket) {
      var zoomed = a > full[0] || b < full[1];
      reset.disabled = !zoomed;
      status.textContent = zoomed ? "Showing " + fmtFull(a) + " to " + fmtFull(b) : "";
      bucketSize.textContent = unit(bucket);
      plot.setAttribute("data-view", a + "-" + b);
    }
    function zoomTo(a, b) {
      a = Math.max(full[0], Math.floor(a));
      b = Math.min(full[1], Math.ceil(b));
      if (b - a < 300) { var mid = (a + b) / 2; a = Math.max(full[0], Math.floor(mid - 150)); b = Math.min(full[1], a + 300); }
      view = [a, b];
      render();
    }

    // Dragging across any lane selects a range.
    var start = null;
    function frac(ev) {
      var r = svgs[0].getBoundingClientRect();
      return { f: Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1), r: r };
    }
    plot.addEventListener("pointerdown", function (ev) {
      if (!ev.target.closest || !ev.target.closest("svg.lane")) { return; }
      start = frac(ev).f;
      ev.preventDefault();
    });
    window.addEventListener("pointermove", function (ev) {
      if (start === null) { return; }
      var p = frac(ev), pr = plot.getBoundingClientRect();
      var l = Math.min(start, p.f), w = Math.abs(p.f - start);
      sel.hidden = false;
      sel.style.left = (p.r.left - pr.left + l * p.r.width) + "px";
      sel.style.width = (w * p.r.width) + "px";
    });
    window.addEventListener("pointerup", function (ev) {
      if (start === null) { return; }
      var p = frac(ev), f0 = Math.min(start, p.f), f1 = Math.max(start, p.f);
      start = null;
      sel.hidden = true;
      if ((f1 - f0) * p.r.width < 4) { return; }
      var a = view[0], span = view[1] - view[0];
      zoomTo(a + f0 * span, a + f1 * span);
    });
    plot.addEventListener("dblclick", function () { view = full.slice(); render(); });
    reset.addEventListener("click", function () { view = full.slice(); render(); });
    // `#zoom=START-END` (unix seconds) opens the page zoomed in.
    var m = /^#zoom=(\d+)-(\d+)$/.exec(location.hash);
    if (m) { zoomTo(Number(m[1]), Number(m[2])); } else { render(true); }
  }
})();
