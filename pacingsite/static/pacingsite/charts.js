/* Pacing Console: small line charts as inline SVG (docs/dashboard.md). No library: a chart here is one
   polyline over the last points, its latest value beside the label; a library would be 100 times the code
   for what the dashboard needs, and the site's Content-Security-Policy (script-src 'self') rules out a CDN.
   PacingCharts.chart(label) -> {element, update(points)}; points: [[x, y], ...], oldest first. */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var W = 150, H = 48, PAD = 3;

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
    var line = document.createElementNS(SVG, "polyline");
    svg.appendChild(line);
    root.appendChild(head);
    root.appendChild(svg);

    function update(points) {
      points = points.filter(function (p) { return p[1] !== null && isFinite(p[1]); });
      value.textContent = points.length ? format(points[points.length - 1][1]) : "—";
      root.setAttribute("data-points", String(points.length));
      if (!points.length) { line.setAttribute("points", ""); return; }
      var x0 = points[0][0], x1 = points[points.length - 1][0];
      var ys = points.map(function (p) { return p[1]; });
      var lo = Math.min(0, Math.min.apply(null, ys)), hi = Math.max.apply(null, ys);
      if (hi <= lo) { hi = lo + 1; }
      line.setAttribute("points", points.map(function (p) {
        var x = x1 > x0 ? PAD + (p[0] - x0) / (x1 - x0) * (W - 2 * PAD) : W - PAD;
        var y = H - PAD - (p[1] - lo) / (hi - lo) * (H - 2 * PAD);
        return x.toFixed(1) + "," + y.toFixed(1);
      }).join(" "));
    }

    return {element: root, update: update};
  }

  window.PacingCharts = {chart: chart, format: format};
})();
