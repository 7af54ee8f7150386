/* Pacing Console: the live dashboard of the admin home (docs/dashboard.md). Plain DOM, no inline script (the
   site's Content-Security-Policy: script-src 'self'); the page's data-* attributes give the API URLs.
   - The targets table: one page (25) of GET /api/v1/pacing/targets/ (?q= searches the names on the server).
   - The selected targets (ticked, up to MAX_SELECTED) get charts of their invitations, pending invitations,
     ready agents and abandonment % over the last hour (a fixed time axis ending now), polled every data-poll-ms
     with the session's cookie: the cluster's recorded hour (GET cycles/series/: one point per step, its newest
     point following every cycle), and for ready agents and abandonment % also the latest stats snapshot the
     poll sees when it is newer than the series (a target whose cluster has not posted yet still moves).
   - The nodes panel from GET nodes/ on every poll, the doctor's counts from GET doctor/ once. */
(function () {
  "use strict";
  var MAX_SELECTED = 6, HOUR_S = 3600, MAX_POINTS = 1000;
  var root = document.getElementById("pacing-dashboard");
  if (!root) { return; }
  var urls = {targets: root.dataset.targetsUrl, series: root.dataset.seriesUrl, nodes: root.dataset.nodesUrl,
              doctor: root.dataset.doctorUrl, whatIf: root.dataset.whatIfUrl};
  var pollMs = parseInt(root.dataset.pollMs, 10) || 3000;
  var pageSize = parseInt(root.dataset.pageSize, 10) || 25;
  var state = {offset: 0, q: "", count: 0};
  var selected = {};      // "tenant id|name" -> {tenant, name, cluster, points, charts, card}
  var $ = function (id) { return document.getElementById(id); };
  var fmt = function (v) { return window.PacingCharts.format(v); };

  function get(url, params) {
    var query = new URLSearchParams(params || {}).toString();
    return fetch(url + (query ? "?" + query : ""), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (body) {
          if (!response.ok) { throw new Error(body.detail || ("HTTP " + response.status)); }
          return body;
        });
      });
  }

  function cell(row, text) {
    var td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "—" : String(text);
    row.appendChild(td);
    return td;
  }

  function abandonedPct(stats) {
    return stats && stats.accepted > 0 ? 100 * stats.abandoned / stats.accepted : null;
  }

  function keyOf(t) { return t.tenant.id + "|" + t.name; }

  function whatIfLink(t) {
    return urls.whatIf + "?" + new URLSearchParams({tenant: t.tenant.id, target: t.name}).toString();
  }

  // --- the targets table ---------------------------------------------------------------------------------
  function loadTargets() {
    var params = {limit: pageSize, offset: state.offset};
    if (state.q) { params.q = state.q; }
    return get(urls.targets, params).then(function (body) {
      $("targets-error").hidden = true;
      state.count = body.count;
      var tbody = $("targets-rows");
      tbody.textContent = "";
      body.results.forEach(function (t) {
        var tr = document.createElement("tr");
        tr.dataset.target = t.name;
        var box = document.createElement("input");
        box.type = "checkbox";
        box.className = "target-select";
        box.setAttribute("aria-label", "Chart " + t.name);
        box.checked = keyOf(t) in selected;
        box.addEventListener("change", function () { toggle(t, box); });
        cell(tr, "").appendChild(box);
        cell(tr, t.name + (t.stale ? " (stale)" : ""));
        cell(tr, t.tenant.name);
        cell(tr, t.stats ? fmt(t.stats.ready_agents) : null);
        cell(tr, t.invitations ? t.invitations.invitations : null);
        cell(tr, t.invitations ? t.invitations.pending : null);
        cell(tr, fmt(abandonedPct(t.stats)));
        cell(tr, t.goal_pct);
        var a = document.createElement("a");
        a.href = whatIfLink(t);
        a.textContent = "What-if";
        cell(tr, "").appendChild(a);
        tbody.appendChild(tr);
      });
      if (!body.results.length) { cell(tbody.appendChild(document.createElement("tr")), "No pacing target.").colSpan = 9; }
      var last = Math.min(state.offset + pageSize, state.count);
      $("targets-count").textContent = state.count ? (state.offset + 1) + "–" + last + " of " + state.count : "0 targets";
      $("targets-prev").disabled = state.offset <= 0;
      $("targets-next").disabled = state.offset + pageSize >= state.count;
    }).catch(function (error) {
      $("targets-error").textContent = "Targets: " + error.message;
      $("targets-error").hidden = false;
    });
  }

  // --- the charts of the selected targets ----------------------------------------------------------------
  var SERIES = [["invitations", "Invitations"], ["pending", "Pending"], ["ready", "Ready agents"],
                ["abandoned", "Abandoned %"]];

  function toggle(t, box) {
    var key = keyOf(t);
    if (!box.checked) {
      if (selected[key]) { selected[key].card.remove(); delete selected[key]; }
    } else if (Object.keys(selected).length >= MAX_SELECTED) {
      box.checked = false;
      return;
    } else {
      var card = document.createElement("div");
      card.className = "chart-card";
      card.dataset.target = t.name;
      var h = document.createElement("h3");
      h.textContent = t.name + " (" + t.tenant.name + ")";
      card.appendChild(h);
      var row = document.createElement("div");
      row.className = "chart-row";
      var charts = {};
      SERIES.forEach(function (s) {
        charts[s[0]] = window.PacingCharts.chart(s[1]);
        charts[s[0]].element.dataset.series = s[0];
        row.appendChild(charts[s[0]].element);
      });
      card.appendChild(row);
      $("charts").appendChild(card);
      selected[key] = {tenant: t.tenant, name: t.name, card: card, charts: charts,
                       points: {invitations: [], pending: [], ready: [], abandoned: []}};
      refreshTarget(selected[key]);
    }
    $("charts-empty").hidden = Object.keys(selected).length > 0;
  }

  function add(list, x, y) {
    if (list.length && list[list.length - 1][0] >= x) { return; }
    list.push([x, y]);
    while (list.length > MAX_POINTS || (list.length && list[0][0] < x - HOUR_S)) { list.shift(); }
  }

  function refreshTarget(sel) {
    return get(urls.targets, {tenant: sel.tenant.id, q: sel.name, limit: 100}).then(function (body) {
      var t = body.results.filter(function (r) { return r.name === sel.name; })[0];
      if (!t) { return; }
      var inv = t.invitations;
      var series = inv && inv.cluster
        ? get(urls.series, {cluster: inv.cluster, target: sel.name, limit: MAX_POINTS}) : Promise.resolve(null);
      return series.then(function (s) {
        if (s && s.results.length) {
          var r = s.results;
          sel.step = r[r.length - 1].step_s || sel.step;
          sel.points.invitations = r.map(function (p) { return [p.at, p.invitations]; });
          sel.points.pending = r.map(function (p) { return [p.at, p.pending]; });
          sel.points.ready = r.map(function (p) { return [p.at, p.ready_agents]; });
          sel.points.abandoned = r.map(function (p) { return [p.at, p.abandoned_pct]; });
        } else if (inv && inv.at) {
          add(sel.points.invitations, inv.at, inv.invitations);
          add(sel.points.pending, inv.at, inv.pending);
        }
        if (t.stats) {           // the latest snapshot, when it is newer than what the series has
          add(sel.points.ready, t.stats.taken_at, t.stats.ready_agents);
          add(sel.points.abandoned, t.stats.taken_at, abandonedPct(t.stats));
        }
      });
    }).then(function () {
      var now = Date.now() / 1000;
      SERIES.forEach(function (s) {
        var pts = sel.points[s[0]];
        var to = Math.max(now, pts.length ? pts[pts.length - 1][0] : now);   // a server clock ahead of ours
        sel.charts[s[0]].update(pts, {from: to - HOUR_S, to: to, gapS: Math.max(60, 3 * (sel.step || 20))});
      });
    }).catch(function () { /* the next poll tries again; the table shows the error */ });
  }

  // --- nodes and doctor --------------------------------------------------------------------------------
  function loadNodes() {
    return get(urls.nodes, {limit: 100}).then(function (body) {
      $("pacing-nodes-error").hidden = true;
      var tbody = $("pacing-nodes-rows");
      tbody.textContent = "";
      body.results.forEach(function (n) {
        var tr = document.createElement("tr");
        [n.cluster.name, n.name, n.leader ? "leader" : "standby", n.epoch, n.lease_age_s,
         n.posting ? "yes" : "no"].forEach(function (v) { cell(tr, v); });
        tbody.appendChild(tr);
      });
      if (!body.results.length) {
        cell(tbody.appendChild(document.createElement("tr")), "No pacing node has a live heartbeat.").colSpan = 6;
      }
    }).catch(function (error) {
      $("pacing-nodes-error").textContent = error.message;
      $("pacing-nodes-error").hidden = false;
    });
  }

  function loadDoctor() {
    return get(urls.doctor).then(function (body) {
      var s = body.summary || {};
      $("doctor-summary").textContent = Object.keys(s).map(function (k) { return s[k] + " " + k; }).join(", ");
    }).catch(function (error) { $("doctor-summary").textContent = "Doctor: " + error.message; });
  }

  // --- wiring --------------------------------------------------------------------------------------------
  $("targets-search").addEventListener("submit", function (event) {
    event.preventDefault();
    state.q = $("targets-q").value.trim();
    state.offset = 0;
    loadTargets();
  });
  $("targets-prev").addEventListener("click", function () {
    state.offset = Math.max(0, state.offset - pageSize);
    loadTargets();
  });
  $("targets-next").addEventListener("click", function () {
    state.offset += pageSize;
    loadTargets();
  });

  function poll() {
    loadTargets();
    loadNodes();
    Object.keys(selected).forEach(function (key) { refreshTarget(selected[key]); });
  }

  // the panels above the app list fill in after the page's load and move it down: data-loaded says they are done
  Promise.all([loadTargets(), loadDoctor()]).then(function () { root.dataset.loaded = "true"; });
  window.setInterval(poll, pollMs);
})();
