/* Pacing Console: small line charts as inline SVG (docs/dashboard.md). No library: a chart here is one
   polyline over the last points, its latest value beside the label; a library would be 100 times the code
   for what the dashboard needs, and the site's Content-Security-Policy (script-src 'self') rules out a CDN.
   PacingCharts.chart(label) -> {element, update(points, axis)}; points: [[t, y], ...] (unix seconds), oldest
   first; axis {from, to, gapS}: the fixed time axis (the dashboard's: the last hour up to now), points outside it
   are not drawn, and the line breaks where two points are more than gapS apart (no cycle posted in between). */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 240, H = 48, PAD = 3;

  function format(value) {
    if (value === null || value === undefined || !isFinite(value)) { return "—"; }
    return Math.abs(value - Math.round(value)) < 1e-9 ? String(Math.round(value)) : value.toFixed(1);
  }

  function chart(label) {
    var root = document.createElement("div");
    root.className = "chart";
    var head = document.createElement("div");
    var name = document.createElement("span");
    name.className = "chart-label";
    name.textContent = label + ": ";
    var value = document.createElement("span");
    value.className = "chart-value";
    value.textContent = "—";
    head.appendChild(name);
    head.appendChild(value);
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 " + W + " " + H);
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
    var lines = document.createElementNS(SVG, "g");
    svg.appendChild(lines);
    var caption = document.createElement("div");
    caption.className = "chart-axis";
    caption.textContent = "last hour";
    root.appendChild(head);
    root.appendChild(svg);
    root.appendChild(caption);

    function update(points, axis) {
      axis = axis || {};
      points = points.filter(function (p) { return p[1] !== null && isFinite(p[1]); });
      value.textContent = points.length ? format(points[points.length - 1][1]) : "—";
      var x0 = axis.from !== undefined ? axis.from : (points.length ? points[0][0] : 0);
      var x1 = axis.to !== undefined ? axis.to : (points.length ? points[points.length - 1][0] : 1);
      points = points.filter(function (p) { return p[0] >= x0 && p[0] <= x1; });
      root.setAttribute("data-points", String(points.length));
      if (points.length) {
        root.setAttribute("data-first", String(points[0][0]));
        root.setAttribute("data-last", String(points[points.length - 1][0]));
      }
      lines.textContent = "";
      if (!points.length) { return; }
      var ys = points.map(function (p) { return p[1]; });
      var lo = Math.min(0, Math.min.apply(null, ys)), hi = Math.max.apply(null, ys);
      if (hi <= lo) { hi = lo + 1; }
      var gap = axis.gapS || Infinity, segment = [], previous = null;
      function flush() {
        if (!segment.length) { return; }
        var line = document.createElementNS(SVG, "polyline");
        line.setAttribute("points", segment.join(" "));
        lines.appendChild(line);
        segment = [];
      }
      points.forEach(function (p) {
        if (previous !== null && p[0] - previous > gap) { flush(); }
        previous = p[0];
        var x = x1 > x0 ? PAD + (p[0] - x0) / (x1 - x0) * (W - 2 * PAD) : W - PAD;
        var y = H - PAD - (p[1] - lo) / (hi - lo) * (H - 2 * PAD);
        segment.push(x.toFixed(1) + "," + y.toFixed(1));
      });
      flush();
    }

    return {element: root, update: update};
  }

  window.PacingCharts = {chart: chart, format: format};
})();
