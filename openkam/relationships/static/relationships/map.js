/* Relationship map (ECharts 5): the network graph, the org chart, reloads after in-place edits. */
window.OKAM_REL = (function () {
  "use strict";
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]; }); }

  var state = {graph: null, tree: null, data: null, el: null, dataUrl: null};

  /* The server sends the graph packed (rows of nodeFields, links as [source, target, kind, strength,
     directional], account names and labels once): unpack into the objects the chart code reads. */
  function unpack(d) {
    if (!d.nodeFields) { return d; }
    var f = d.nodeFields, L = d.labels;
    d.nodes = d.nodes.map(function (row) {
      var n = {};
      for (var i = 0; i < f.length; i++) { n[f[i]] = row[i]; }
      n.account = d.accounts[n.account_id];
      n.stance_allowed = !!n.stance_allowed;
      n.role_label = n.role == null ? null : (L.roles[n.role] || n.role);
      n.stance_label = n.stance == null ? null : L.stances[String(n.stance)];
      n.influence_label = n.influence ? L.influenceLevels[String(n.influence)] : null;
      return n;
    });
    d.links = d.links.map(function (l) {
      return {source: l[0], target: l[1], kind: d.linkKinds[l[2]], strength: l[3], directional: !!l[4]};
    });
    delete d.nodeFields;
    return d;
  }

  function nodeColour(d, n) {
    if (!d.judgements || n.stance === null || n.stance === undefined) { return d.stanceColours.none; }
    return d.stanceColours[String(n.stance)];
  }

  /* Larger maps: people grouped by the account directly below the mapped one (the hospitals of an IDN, the
     departments of a hospital; by their own account when that gives one group) — each group a disc (sunflower
     spiral, most influential in the middle), the discs packed in rows from the largest, each with the
     account's name above it; computed at once (a force layout of hundreds of nodes and thousands of links
     takes seconds and ends as a hairball). Returns the label nodes to add and the group of each node (to tell
     links inside a group from links between groups). */
  function groupedLayout(d, nodes, width, height) {
    var groups = {}, order = [], groupOf = {}, names = {};
    var item = function (n) { return n.raw || n.vacancy || {}; };
    var byGroup = {};
    nodes.forEach(function (n) { byGroup[item(n).group_id] = true; });
    var field = Object.keys(byGroup).length > 1 ? "group_id" : "account_id";
    nodes.forEach(function (n) {
      var it = item(n), key = it[field] || 0;
      if (!groups[key]) {
        groups[key] = []; order.push(key);
        names[key] = (field === "group_id" && d.groups && d.groups[key]) || it.account || "";
      }
      groups[key].push(n);
      groupOf[n.id] = key;
    });
    order.sort(function (a, b) { return groups[b].length - groups[a].length; });
    var spacing = 11, gap = 34, area = 0;
    var radius = {};
    order.forEach(function (key) {
      radius[key] = spacing * Math.sqrt(groups[key].length) + 6;
      area += Math.pow(2 * radius[key] + gap, 2);
    });
    var rowWidth = Math.max(2 * radius[order[0]] + gap, Math.sqrt(area * (width || 900) / (height || 620)));
    var x = 0, y = 0, rowHeight = 0, labels = [];
    order.forEach(function (key) {
      var members = groups[key], r = radius[key], dia = 2 * r + gap;
      if (x > 0 && x + dia > rowWidth) { x = 0; y += rowHeight; rowHeight = 0; }
      var cx = x + dia / 2, cy = y + dia / 2 + 12;
      members.sort(function (a, b) { return (b.value || 0) - (a.value || 0); });
      members.forEach(function (n, i) {
        var k = Math.sqrt(i + 0.5) / Math.sqrt(members.length), a = i * 2.399963;  // sunflower spiral
        n.x = cx + r * k * Math.cos(a); n.y = cy + r * k * Math.sin(a);
      });
      labels.push({id: "g" + key, name: names[key] + " (" + members.length + ")", x: cx, y: cy - r - 4, symbolSize: 1,
                   group: true, dia: dia, itemStyle: {color: "rgba(0,0,0,0)", borderWidth: 0}});
      x += dia; rowHeight = Math.max(rowHeight, dia + 12);
    });
    // the chart scales these coordinates to fit its box: a label may be as wide as its disc is on screen
    var scale = Math.min(((width || 900) - 16) / rowWidth, ((height || 620) - 44) / Math.max(1, y + rowHeight));
    labels.forEach(function (l) {
      l.label = {show: true, position: "top", fontSize: 10, color: "#495057", fontWeight: "bold",
                 width: Math.max(36, l.dia * scale - 6), overflow: "truncate"};
      delete l.dia;
    });
    return {labels: labels, groupOf: groupOf};
  }


  var LEGEND_HEIGHT = 36, LABEL_WIDTH = 130, VACANCY_ROW = 26, VACANCY_COLUMN = 190;

  /* The link kinds the legend lists: every kind for readers of judgements, else only the kinds the data
     holds (medical sees reports-to and peer links only — no "Influences" or "Conflicts with" in its legend). */
  function legendKinds(d) {
    var all = ["reports_to", "influences", "peer", "conflicts_with"];
    if (d.judgements) { return all; }
    var present = {};
    d.links.forEach(function (l) { present[l.kind] = true; });
    return all.filter(function (k) { return present[k]; });
  }

  /* A label that would run out of the canvas on the right is put on the left of its node (it is truncated
     at LABEL_WIDTH anyway, the tooltip has the full name); overlapping labels are hidden. */
  function keepLabelInside(p) {
    var width = state.graph ? state.graph.getWidth() : 0, node = state.nodes && state.nodes[p.dataIndex];
    if (node && node.group) { return {hideOverlap: true}; }  // a group's name is sized to its disc already
    if (width && p.labelRect.x + p.labelRect.width > width - 4) {
      return {x: p.rect.x - 4, align: "right", hideOverlap: true};
    }
    return {hideOverlap: true};
  }

  /* Smaller maps: the force layout of the people (and their links) runs at once (no animation); then its
     positions are fitted into the drawing area — below the legend, a margin for labels — and the vacated roles
     (which have no links: a force layout throws them far out, onto the legend or over the edge) are set in
     rows below the people. Two invisible corner anchors make the chart's coordinates the canvas's pixels. */
  function fitForceLayout(chart, option, d) {
    var series = chart.getModel().getSeriesByIndex(0), data = series.getData();
    var nodes = option.series[0].data, people = [], vacancies = [];
    nodes.forEach(function (n, i) {
      var xy = data.getItemLayout(i);
      if (n.vacancy) { vacancies.push(n); } else if (xy) { n.x = xy[0]; n.y = xy[1]; people.push(n); }
    });
    var width = chart.getWidth(), height = chart.getHeight();
    var columns = Math.max(1, Math.floor((width - 16) / VACANCY_COLUMN));
    var vacancyRows = Math.ceil(vacancies.length / columns);
    var box = {left: 24, right: width - 24 - 40, top: LEGEND_HEIGHT + 16, bottom: height - 20 - vacancyRows * VACANCY_ROW};
    if (box.bottom - box.top < height / 3) { box.bottom = box.top + height / 3; }  // many vacancies: a scrollable map
    var minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
    people.forEach(function (n) { minX = Math.min(minX, n.x); maxX = Math.max(maxX, n.x); minY = Math.min(minY, n.y); maxY = Math.max(maxY, n.y); });
    var spanX = Math.max(1, maxX - minX), spanY = Math.max(1, maxY - minY);
    // fit, but don't blow a handful of people up over the whole canvas (the layout's own edge lengths are fine)
    var scale = Math.min((box.right - box.left) / spanX, (box.bottom - box.top) / spanY, 1.4);
    var offX = box.left + ((box.right - box.left) - spanX * scale) / 2, offY = box.top + ((box.bottom - box.top) - spanY * scale) / 2;
    people.forEach(function (n) {
      n.x = people.length > 1 ? offX + (n.x - minX) * scale : (box.left + box.right) / 2;
      n.y = people.length > 1 ? offY + (n.y - minY) * scale : (box.top + box.bottom) / 2;
    });
    vacancies.forEach(function (n, i) {
      n.x = 16 + (i % columns) * VACANCY_COLUMN + 10;
      n.y = box.bottom + 20 + Math.floor(i / columns) * VACANCY_ROW;
      n.label = {show: true, color: "#dc3545", fontSize: 10, width: VACANCY_COLUMN - 30, overflow: "truncate"};
    });
    var anchor = function (id, x, y) {
      return {id: id, name: "", x: x, y: y, symbolSize: 0, anchor: true, label: {show: false},
              itemStyle: {opacity: 0}, tooltip: {show: false}, emphasis: {disabled: true}};
    };
    var bottom = Math.max(height, vacancies.length ? vacancies[vacancies.length - 1].y + 14 : 0);
    option.series[0].data = nodes.concat([anchor("anchor-tl", 0, 0), anchor("anchor-br", width, bottom)]);
    option.series[0].layout = "none";
    option.series[0].top = 0; option.series[0].bottom = 0; option.series[0].left = 0; option.series[0].right = 0;
    option.series[0].height = height; option.series[0].width = width;
    option.animation = false;
    chart.setOption(option, true);
  }

  function graphOption(d) {
    var big = d.nodes.length > 400, grouped = d.nodes.length > 120;
    var nodes = d.nodes.map(function (n) {
      var size = 12 + 6 * ((d.judgements && n.influence) ? n.influence : 1);
      return {
        id: String(n.id), name: n.name, value: n.influence || 0, symbolSize: big ? size / 2 : size,
        itemStyle: {color: nodeColour(d, n), borderColor: n.best_strength >= 2 ? "#0d6efd" : "#fff",
                    borderWidth: n.best_strength >= 2 ? 2.5 : 1},
        label: {show: !big && (n.influence >= 5 || d.nodes.length <= 40)}, raw: n
      };
    });
    d.vacancies.forEach(function (v) {
      nodes.push({id: "v" + v.position_id, name: d.labels.vacant + ": " + v.title, symbol: "rect", symbolSize: big ? 8 : 14,
                  itemStyle: {color: "#fff", borderColor: "#dc3545", borderType: "dashed", borderWidth: 2},
                  label: {show: !grouped, color: "#dc3545", fontSize: 10}, vacancy: v});
    });
    var layout = grouped ? groupedLayout(d, nodes, d.width, d.height) : null;
    var kinds = legendKinds(d);
    var links = d.links.map(function (l) {
      // on large maps links between accounts are faint (hover a person to see theirs), links inside an account show
      var across = layout && layout.groupOf[String(l.source)] !== layout.groupOf[String(l.target)];
      return {source: String(l.source), target: String(l.target), kind: l.kind,
              symbol: l.directional && !big ? ["none", "arrow"] : ["none", "none"], symbolSize: 7,
              lineStyle: {color: d.linkColours[l.kind], width: big ? 0.6 : l.strength * 0.9,
                          type: l.kind === "conflicts_with" ? "dashed" : "solid",
                          opacity: across ? (big ? 0.03 : 0.08) : (big ? 0.35 : (grouped ? 0.45 : 0.75)),
                          curveness: l.kind === "peer" ? 0.15 : 0.05}};
    });
    if (layout) { nodes = nodes.concat(layout.labels); }
    return {
      animation: !grouped,
      tooltip: {formatter: function (p) {
        if (p.dataType === "edge") { return esc(d.labels[p.data.kind]); }
        if (p.data.group) { return esc(p.data.name); }
        if (p.data.anchor) { return ""; }
        if (p.data.vacancy) { var v = p.data.vacancy; return "<b>" + esc(d.labels.vacant) + "</b>: " + esc(v.title) + "<br>" + esc(v.account) + "<br>" + esc(v.former) + " → " + esc(v.since); }
        var n = p.data.raw, rows = ["<b>" + esc(n.name) + "</b>", esc(n.title) + " · " + esc(n.account)];
        if (d.judgements) {
          rows.push(esc(d.labels.role) + ": " + esc(n.role_label));
          rows.push(esc(d.labels.stance) + ": " + esc(n.stance_label || (n.stance_allowed ? d.labels.notAssessed : "—")));
          rows.push(esc(d.labels.influence) + ": " + esc(n.influence_label || d.labels.notAssessed));
        }
        rows.push(esc(d.labels.lastContact) + ": " + esc(n.last_contact || d.labels.never));
        return rows.join("<br>");
      }},
      legend: [{data: kinds.map(function (k) { return {name: d.labels[k], itemStyle: {color: d.linkColours[k]}}; }), top: 0, selectedMode: false}],
      series: [{
        type: "graph", layout: grouped ? "none" : "force", roam: true, draggable: !big, data: nodes, links: links,
        categories: kinds.map(function (k) { return {name: d.labels[k]}; }),
        force: {repulsion: 220, edgeLength: [60, 140], gravity: 0.08, layoutAnimation: false},
        circular: {rotateLabel: true}, emphasis: {focus: "adjacency", lineStyle: {width: big ? 1.5 : 3, opacity: 0.9}},
        label: {position: "right", fontSize: 11, formatter: "{b}", width: LABEL_WIDTH, overflow: "truncate"},
        labelLayout: keepLabelInside,
        edgeSymbol: ["none", "arrow"], top: LEGEND_HEIGHT, bottom: 8, left: 8, right: 8
      }]
    };
  }

  /* The org chart: one left-to-right tree (several trees hang under the account's name), each person with their
     title; two levels open (everything on small maps), a click on a person opens or closes their reports (a
     person without reports opens their panel). The chart is as tall as the rows it shows and as wide as its
     levels, inside a scrolling box: labels never overlap, however many people are open. */
  var ORG_ROW = 40, ORG_LEVEL = 250, ORG_LABEL = 200, ORG_OPEN_ALL = 40;

  function orgTree(org, rootName) {
    var count = 0;
    var convert = function (n, depth) {
      count += 1;
      var kids = (n.children || []).map(function (c) { return convert(c, depth + 1); });
      return {name: n.name, title: n.title, id: n.id, stance: n.stance, depth: depth, children: kids, collapsed: depth >= 1 && kids.length > 0};
    };
    var roots = org.map(function (r) { return convert(r, 0); });
    var root = roots.length === 1 ? roots[0]
      : {name: rootName, title: "", id: null, virtual: true, depth: -1, children: roots, collapsed: false};
    if (count <= ORG_OPEN_ALL) { walk(root, function (n) { n.collapsed = false; }); }
    return root;
  }

  function walk(n, fn) { fn(n); (n.children || []).forEach(function (c) { walk(c, fn); }); }

  function descendants(n) {
    var total = 0;
    (n.children || []).forEach(function (c) { total += 1 + descendants(c); });
    return total;
  }

  function orgShape(root) {  // rows (visible leaves) and levels on screen
    var rows = 0, levels = 0;
    var visit = function (n, level) {
      levels = Math.max(levels, level + 1);
      if (!n.children.length || n.collapsed) { rows += 1; return; }
      n.children.forEach(function (c) { visit(c, level + 1); });
    };
    visit(root, 0);
    return {rows: rows, levels: levels};
  }

  function treeOption(root, d) {
    var colours = d && d.judgements ? d.stanceColours : null;
    var paint = function (n) {
      var open = n.children.length && !n.collapsed, hidden = n.collapsed ? descendants(n) : 0;
      var node = {name: n.name, value: n.id, key: n.key, title: n.title, person: n, collapsed: !!n.collapsed,
                  symbolSize: n.virtual ? 6 : 11,
                  itemStyle: {color: n.virtual ? "#6c757d" : (colours ? (n.stance === null || n.stance === undefined ? colours.none : colours[String(n.stance)]) : "#0d6efd"),
                              borderColor: n.collapsed ? "#0d6efd" : "#fff", borderWidth: n.collapsed ? 2 : 1},
                  label: open ? {position: "left", align: "right", backgroundColor: "rgba(255,255,255,0.9)", padding: [1, 2]}
                    : {position: "right", align: "left"},
                  hidden: hidden, children: open ? n.children.map(paint) : []};
      return node;
    };
    return {
      tooltip: {trigger: "item", formatter: function (p) {
        var n = p.data.person;
        return "<b>" + esc(n.name) + "</b>" + (n.title ? "<br>" + esc(n.title) : "") + (p.data.hidden ? "<br>+" + p.data.hidden : "");
      }},
      series: [{
        type: "tree", data: [paint(root)], orient: "LR", roam: false, expandAndCollapse: false, initialTreeDepth: -1,
        top: 20, bottom: 20, left: ORG_LABEL + 16, right: ORG_LABEL + 16, symbol: "circle", animation: false,
        lineStyle: {color: "#adb5bd", width: 1.2, curveness: 0.5},
        label: {verticalAlign: "middle", fontSize: 11, width: ORG_LABEL, overflow: "truncate", lineHeight: 14,
                formatter: function (p) {
                  var more = p.data.hidden ? " {more|+" + p.data.hidden + "}" : "";
                  return "{name|" + p.data.person.name + "}" + more + (p.data.title ? "\n{title|" + p.data.title + "}" : "");
                },
                rich: {name: {fontWeight: "bold", fontSize: 11, color: "#212529"}, title: {fontSize: 10, color: "#6c757d"},
                       more: {fontSize: 10, color: "#0d6efd", fontWeight: "bold"}}}
      }]
    };
  }

  function tree(el, org, d, rootName) {
    if (!org.length) { return; }
    var root = orgTree(org, rootName), byKey = {}, next = 0;
    walk(root, function (n) { n.key = next; byKey[next] = n; next += 1; });
    var draw = function () {
      var shape = orgShape(root);
      el.style.height = Math.max(360, shape.rows * ORG_ROW + 40) + "px";
      var box = el.parentElement ? el.parentElement.clientWidth : 0;
      el.style.width = Math.max(box, (shape.levels - 1) * ORG_LEVEL + 2 * (ORG_LABEL + 16)) + "px";
      if (!state.tree) {
        state.tree = echarts.init(el, null, {renderer: "canvas"});
        state.tree.on("click", function (p) {
          var n = p.data && byKey[p.data.key];  // ECharts hands out a copy of the item: find ours
          if (!n) { return; }
          if (n.children.length) { n.collapsed = !n.collapsed; draw(); } else if (n.id) { openPerson(n.id); }
        });
      } else { state.tree.resize(); }
      state.tree.setOption(treeOption(root, d), true);
      el.dataset.rows = String(shape.rows);
    };
    state.treeDraw = draw;
    draw();
  }

  function openPerson(id) {
    var panel = document.getElementById("person-panel");
    if (!panel || !state.data) { return; }
    htmx.ajax("GET", state.data.personUrl + id + "/", {target: "#person-panel", swap: "innerHTML"});
    panel.scrollIntoView({block: "nearest"});
  }

  function render(el, data) {
    var t0 = performance.now();
    data = unpack(data);
    state.el = el; state.data = data;
    if (state.graph) { state.graph.dispose(); }
    state.graph = echarts.init(el, null, {renderer: "canvas"});
    data.width = el.clientWidth; data.height = el.clientHeight;
    var first = true;
    state.graph.on("rendered", function () {  // the first frame painted: time to first render
      if (first) { first = false; el.dataset.renderMs = String(Math.round(performance.now() - t0)); el.dataset.rendered = "1"; }
    });
    state.graph.on("finished", function () {  // the layout settled
      if (!el.dataset.settledMs) { el.dataset.settledMs = String(Math.round(performance.now() - t0)); }
    });
    var option = graphOption(data);
    state.nodes = option.series[0].data;
    state.graph.setOption(option);
    if (option.series[0].layout === "force") { fitForceLayout(state.graph, option, data); state.nodes = option.series[0].data; }
    state.graph.on("click", function (p) {
      if (p.dataType === "node" && p.data.raw) { openPerson(p.data.raw.id); }
      if (p.dataType === "node" && p.data.vacancy && data.succeedUrl) { window.location = data.succeedUrl + p.data.vacancy.position_id + "/"; }
    });
    window.addEventListener("resize", function () { state.graph && state.graph.resize(); });
  }

  function reload() {
    if (!state.dataUrl) { return; }
    fetch(state.dataUrl + window.location.search, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (d) { d.personUrl = state.data.personUrl; d.succeedUrl = state.data.succeedUrl; delete state.el.dataset.rendered; render(state.el, d); });
  }

  function init(opts) {
    state.dataUrl = opts.dataUrl;
    opts.data.succeedUrl = opts.succeedUrl;
    render(opts.el, opts.data);
    if (opts.treeEl) {
      var shown = false, tab = document.getElementById("tab-org-btn");
      var show = function () {
        if (!shown) { shown = true; tree(opts.treeEl, opts.org, state.data, opts.orgRoot || ""); } else if (state.treeDraw) { state.treeDraw(); }
      };
      if (tab) { tab.addEventListener("shown.bs.tab", show); }
      if (opts.view === "org") { show(); }
    }
    var graphTab = document.getElementById("tab-graph-btn");
    if (graphTab) { graphTab.addEventListener("shown.bs.tab", function () { state.graph && state.graph.resize(); }); }
    document.body.addEventListener("relationships-changed", reload);
    if (opts.edit) { openPerson(opts.edit); }
  }

  return {init: init, openPerson: openPerson};
})();
