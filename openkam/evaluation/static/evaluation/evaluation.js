/* Charts of the evaluation pages (ECharts 5). */
window.OKAM_EVAL = (function () {
  "use strict";
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; }); }

  function matrix(el, data) {
    var chart = echarts.init(el, null, {renderer: "canvas"});
    var order = ["strategic", "key", "basic", "declined"];
    var series = order.map(function (level, i) {
      var s = {
        name: data.levels[level], type: "scatter", symbolSize: 14, itemStyle: {color: data.colours[level], opacity: 0.85,
          borderColor: "#fff", borderWidth: 1}, emphasis: {scale: 1.6, label: {show: true, formatter: "{b}", position: "top",
          fontWeight: 600, color: "#212529"}},
        data: data.points.filter(function (p) { return p.level === level; }).map(function (p) {
          return p.value[0] > 70 ? Object.assign({label: {position: "left"}}, p) : p;  // keep names inside the plot
        }),
        label: {show: data.points.length <= 40, formatter: "{b}", position: "right", fontSize: 11, color: "#495057"},
        labelLayout: {hideOverlap: true}
      };
      if (i === 0) {
        var area = function (x0, y0, x1, y1, colour, name, pos) {
          return [{xAxis: x0, yAxis: y0, itemStyle: {color: colour}, name: name,
                   label: {position: pos, color: "#5b6770", fontWeight: 600, fontSize: 13}}, {xAxis: x1, yAxis: y1}];
        };
        s.markArea = {silent: true, data: [
          area(50, 50, 100, 100, "rgba(111,66,193,0.07)", data.quadrants.strategic, "insideTopRight"),
          area(0, 50, 50, 100, "rgba(13,110,253,0.06)", data.quadrants.develop, "insideTopLeft"),
          area(50, 0, 100, 50, "rgba(25,135,84,0.06)", data.quadrants.maintain, "insideBottomRight"),
          area(0, 0, 50, 50, "rgba(108,117,125,0.06)", data.quadrants.opportunistic, "insideBottomLeft")
        ]};
        s.markLine = {silent: true, symbol: "none", lineStyle: {color: "#adb5bd", type: "dashed"}, label: {show: false},
                      data: [{xAxis: 50}, {yAxis: 50}]};
      }
      return s;
    });
    chart.setOption({
      animationDuration: 400,
      grid: {left: 64, right: 24, top: 40, bottom: 56},
      legend: {top: 4, icon: "circle"},
      tooltip: {trigger: "item", formatter: function (p) {
        var d = p.data;
        return "<strong>" + esc(d.name) + "</strong><br>" + esc(d.type) + " · " + esc(d.levelLabel) +
          "<br>" + esc(data.yName) + ": <strong>" + d.value[1].toFixed(1) + "</strong><br>" + esc(data.xName) + ": <strong>" +
          d.value[0].toFixed(0) + " %</strong>";
      }},
      xAxis: {name: data.xName, nameLocation: "middle", nameGap: 32, min: 0, max: 100, splitLine: {show: false},
              axisLabel: {formatter: "{value} %"}},
      yAxis: {name: data.yName, nameLocation: "middle", nameGap: 44, min: 0, max: 100, splitLine: {show: false}},
      series: series
    });
    chart.on("click", function (p) { if (p.data && p.data.url) { window.location.href = p.data.url; } });
    window.addEventListener("resize", function () { chart.resize(); });
    el.dataset.points = String(data.points.length);
    return chart;
  }

  function trend(el, data) {
    var chart = echarts.init(el);
    var t = data.thresholds, lines = [];
    if (t) {
      lines = [{yAxis: t.strategic, name: data.labels.strategic, lineStyle: {color: "#6f42c1"}},
               {yAxis: t.key, name: data.labels.key, lineStyle: {color: "#0d6efd"}},
               {yAxis: t.basic, name: data.labels.basic, lineStyle: {color: "#6c757d"}}];
    }
    chart.setOption({
      grid: {left: 40, right: 70, top: 20, bottom: 30},
      tooltip: {trigger: "axis"},
      xAxis: {type: "category", data: data.dates, boundaryGap: false},
      yAxis: {type: "value", min: 0, max: 100},
      series: [{name: data.labels.score, type: "line", data: data.totals, smooth: true, symbolSize: 9,
                lineStyle: {width: 3, color: "#0b5563"}, itemStyle: {color: "#0b5563"},
                areaStyle: {color: "rgba(11,85,99,0.08)"},
                markLine: {silent: true, symbol: "none", lineStyle: {type: "dashed"},
                           label: {formatter: "{b}", position: "end", fontSize: 11}, data: lines}}]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function effort(el, data) {
    var chart = echarts.init(el);
    chart.setOption({
      grid: {left: 40, right: 16, top: 36, bottom: 28},
      legend: {top: 0},
      tooltip: {trigger: "axis", valueFormatter: function (v) { return v + " %"; }},
      xAxis: {type: "category", data: data.levels},
      yAxis: {type: "value", axisLabel: {formatter: "{value} %"}},
      series: [
        {name: data.labels.accounts, type: "bar", data: data.accounts, itemStyle: {color: "#ced4da"}},
        {name: data.labels.actual, type: "bar", data: data.actual, itemStyle: {color: "#127b8c"}},
        {name: data.labels.intended, type: "bar", data: data.intended, itemStyle: {color: "rgba(11,85,99,0.25)", borderColor: "#0b5563", borderType: "dashed", borderWidth: 1}}
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  return {matrix: matrix, trend: trend, effort: effort};
})();
