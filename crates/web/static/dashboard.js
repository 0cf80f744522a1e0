// The dashboard's chart: published executions by day (30 days) or hour (48 hours).
(function () {
  "use strict";
  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("chart");
    if (!el || !window.uPlot) return;
    var plot = null;

    function series(kind) {
      var raw = JSON.parse(el.dataset[kind] || "{}");
      var step = kind === "day" ? 86400 : 3600;
      var span = kind === "day" ? 30 : 48;
      var now = Math.floor(Date.now() / 1000 / step) * step;
      var xs = [], ys = [];
      for (var i = span - 1; i >= 0; i--) {
        var t = now - i * step;
        var iso = new Date(t * 1000).toISOString();
        var key = kind === "day" ? iso.slice(0, 10) : iso.slice(0, 13) + ":00Z";
        xs.push(t);
        ys.push(raw[key] || 0);
      }
      return [xs, ys];
    }

    function draw(kind) {
      if (plot) plot.destroy();
      var width = Math.max(280, el.clientWidth);
      plot = new uPlot({
        width: width,
        height: 220,
        series: [{}, { label: el.dataset.label, stroke: "#2f5bea", fill: "rgba(47,91,234,0.12)" }],
        axes: [{}, { size: 40 }],
        scales: { x: { time: true } }
      }, series(kind), el);
      document.querySelectorAll("[data-chart-show]").forEach(function (b) {
        b.setAttribute("aria-pressed", b.dataset.chartShow === kind ? "true" : "false");
      });
    }
    document.querySelectorAll("[data-chart-show]").forEach(function (b) {
      b.addEventListener("click", function () { draw(b.dataset.chartShow); });
    });
    draw("day");
  });
})();
