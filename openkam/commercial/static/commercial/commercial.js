/* Charts of the commercial pages (ECharts). */
window.OKAM_COMMERCIAL = (function () {
  function money(v, cur) {
    return cur + " " + Math.round(v).toLocaleString();
  }
  function forecast(el, d) {
    if (!el || !d) return;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return money(v, d.currency); } },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 36, bottom: 30 },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v / 1000).toLocaleString() + "k"; } } },
      series: [
        { name: d.labels.open, type: "bar", data: d.open, itemStyle: { color: "#cfe2ff" } },
        { name: d.labels.weighted, type: "bar", data: d.weighted, itemStyle: { color: "#0d6efd" } },
        { name: d.labels.won, type: "line", data: d.won, itemStyle: { color: "#198754" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  function pnl(el, d) {
    if (!el || !d) return;
    var chart = echarts.init(el);
    chart.setOption({
      tooltip: { trigger: "axis", valueFormatter: function (v) { return money(v, d.currency); } },
      legend: { top: 0 },
      grid: { left: 70, right: 20, top: 36, bottom: 30 },
      xAxis: { type: "category", data: d.months },
      yAxis: { type: "value", axisLabel: { formatter: function (v) { return (v / 1000).toLocaleString() + "k"; } } },
      series: [
        { name: d.labels.net, type: "bar", data: d.net, itemStyle: { color: "#9ec5fe" } },
        { name: d.labels.cts, type: "bar", data: d.cts, itemStyle: { color: "#ffc107" } },
        { name: d.labels.contribution, type: "line", smooth: true, data: d.contribution, itemStyle: { color: "#198754" } }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }
  return { forecast: forecast, pnl: pnl };
})();
