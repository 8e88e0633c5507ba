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
      nodes.push({id: "v" + v.position_id, name: d.labels.vacant + ": " + v.title, symbol: "rect", symbolSize: big ? 8 : 16,
                  itemStyle: {color: "#fff", borderColor: "#dc3545", borderType: "dashed", borderWidth: 2},
                  label: {show: !grouped, color: "#dc3545"}, vacancy: v});
    });
    var layout = grouped ? groupedLayout(d, nodes, d.width, d.height) : null;
    var kinds = ["reports_to", "influences", "peer", "conflicts_with"];
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
        label: {position: "right", fontSize: 11, formatter: "{b}"}, labelLayout: {hideOverlap: true},
        edgeSymbol: ["none", "arrow"], top: 36, bottom: 8, left: 8, right: 8
      }]
    };
  }

  function treeOption(org) {
    return {
      tooltip: {trigger: "item", formatter: function (p) { return "<b>" + esc(p.data.name) + "</b><br>" + esc(p.data.title); }},
      series: org.map(function (root, i) {
        var width = 100 / Math.max(1, org.length);
        return {type: "tree", data: [root], orient: "TB", top: 40, bottom: 40, left: (i * width + 2) + "%", width: (width - 4) + "%",
                symbolSize: 10, initialTreeDepth: -1, expandAndCollapse: true,
                label: {position: "top", fontSize: 11, formatter: function (p) { return p.data.name; }},
                leaves: {label: {position: "bottom", rotate: 0}}, lineStyle: {color: "#adb5bd"}};
      })
    };
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
    state.graph.setOption(graphOption(data));
    state.graph.on("click", function (p) {
      if (p.dataType === "node" && p.data.raw) { openPerson(p.data.raw.id); }
      if (p.dataType === "node" && p.data.vacancy && data.succeedUrl) { window.location = data.succeedUrl + p.data.vacancy.position_id + "/"; }
    });
    window.addEventListener("resize", function () { state.graph && state.graph.resize(); });
  }

  function tree(el, org) {
    if (!org.length) { return; }
    state.tree = echarts.init(el, null, {renderer: "canvas"});
    state.tree.setOption(treeOption(org));
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
      var show = function () { if (!shown) { shown = true; tree(opts.treeEl, opts.org); } else if (state.tree) { state.tree.resize(); } };
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
