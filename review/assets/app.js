// breadcrumb review: the page. Map metres in Leaflet's L.CRS.Simple (lat = y north, lng = x
// east); every edit is POSTed and re-judged by the server's checker and twin; this file only
// draws what the server answers. No build step, no requests off this server.
(function () {
  'use strict';
  const token = document.querySelector('meta[name="review-token"]').content;
  const $ = (id) => document.getElementById(id);
  const fmt = (v, d) => (v === null || v === undefined || !isFinite(v)) ? '–' : Number(v).toFixed(d);
  const unitFmt = (v, unit) => {
    if (v === null || v === undefined || !isFinite(v)) return '–';
    if (unit === 'deg') return fmt(v, 2) + '°';
    if (unit === 'm') return fmt(v, 3) + ' m';
    if (unit === 's') return fmt(v, 0) + ' s';
    return fmt(v, 3) + (unit ? ' ' + unit : '');
  };

  async function api(method, path, body, extra) {
    const opts = { method, headers: Object.assign({ 'x-review-token': token }, extra || {}) };
    if (body !== undefined) {
      opts.headers['content-type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const r = await fetch(path, opts);
    const text = await r.text();
    let data = null;
    try { data = JSON.parse(text); } catch (_) { data = { error: text }; }
    return { ok: r.ok, status: r.status, data };
  }

  const R = window.breadcrumbReview = { state: null, session: null, lastEditMs: null, busy: false };
  let map, routeLine, wpLayer, violLayer, trackLayer;

  function message(text, isError) {
    const m = $('message');
    m.textContent = text || '';
    m.className = isError ? 'error' : '';
  }

  function ll(x, y) { return L.latLng(y, x); }

  function setupMap(s) {
    const sc = s.scheme;
    const a = 1 / sc.m_per_px0;
    const crs = L.extend({}, L.CRS.Simple, {
      transformation: new L.Transformation(a, -a * sc.x0, -a, a * sc.y0),
    });
    const bounds = L.latLngBounds(ll(sc.x0, sc.y1), ll(sc.x1, sc.y0));
    map = L.map('map', {
      crs, minZoom: 0, maxZoom: sc.max_zoom + 2, zoomSnap: 0.5, attributionControl: false,
      maxBounds: bounds.pad(0.5), boxZoom: false, doubleClickZoom: false,
    });
    // Violations above the terrain marks, below the waypoints (which stay draggable).
    map.createPane('violations').style.zIndex = 580;
    map.createPane('probe').style.zIndex = 590;
    // The view first: Leaflet's vector renderer needs one before any path is added.
    const pts = s.original_waypoints.map((p) => ll(p[0], p[1]));
    map.fitBounds(L.latLngBounds(pts).pad(0.15));
    const names = { ortho: 'Ortho image', slope: 'Slope', hazards: 'Mapped hazards', classes: 'Terrain classes' };
    const base = {};
    for (const layer of s.layers) {
      base[names[layer] || layer] = L.tileLayer('/tiles/' + layer + '/{z}/{x}/{y}.png?token=' + token, {
        tileSize: sc.tile_px, minZoom: 0, maxNativeZoom: sc.max_zoom, maxZoom: sc.max_zoom + 2,
        bounds, noWrap: true, keepBuffer: 4,
      });
    }
    base[names.ortho].addTo(map);

    const zones = L.layerGroup();
    const sol = s.sol;
    if (sol.keep_in && sol.keep_in.length) {
      L.polygon(sol.keep_in.map((p) => ll(p[0], p[1])), { color: '#00e6ff', weight: 1.5, fill: false, dashArray: '6 4', interactive: false }).addTo(zones);
    }
    for (const z of sol.keep_out || []) {
      L.polygon(z.polygon.map((p) => ll(p[0], p[1])), { color: '#ff5000', weight: 2, fillOpacity: 0.18 })
        .bindTooltip('keep-out: ' + z.name).addTo(zones);
    }
    L.circleMarker(ll(sol.start.x, sol.start.y), { radius: 9, color: '#28e65a', weight: 3, fill: false, interactive: false }).addTo(zones);
    L.circle(ll(sol.goal.x, sol.goal.y), { radius: sol.goal.tolerance_m, color: '#ff3cff', weight: 2, fillOpacity: 0.15 })
      .bindTooltip('goal ± ' + sol.goal.tolerance_m + ' m').addTo(zones);
    zones.addTo(map);

    const toLL = (c) => ll(c[0], c[1]);
    const geo = (fc, style, label) => L.geoJSON(fc, { coordsToLatLng: toLL, style, onEachFeature: (f, l) => l.bindTooltip(label(f.properties || {})) });
    const hazards = geo(s.hazards, () => ({ color: '#ff2d2d', weight: 1.2, fillOpacity: 0.08 }), (p) => 'mapped ' + (p.class || 'hazard'));
    // Rocks are a metre across, a few pixels at the overview: ring the small ones.
    for (const f of s.hazards.features) {
      const ring = f.geometry.coordinates[0][0];
      const xs = ring.map((p) => p[0]), ys = ring.map((p) => p[1]);
      const w = Math.max(...xs) - Math.min(...xs), h = Math.max(...ys) - Math.min(...ys);
      if (Math.max(w, h) < 4) {
        L.circleMarker(ll((Math.max(...xs) + Math.min(...xs)) / 2, (Math.max(...ys) + Math.min(...ys)) / 2), {
          radius: 5, color: '#ff2d2d', weight: 1.5, fill: false,
        }).bindTooltip('mapped ' + (f.properties.class || 'hazard') + ' (' + fmt(Math.max(w, h), 1) + ' m)').addTo(hazards);
      }
    }
    hazards.addTo(map);
    const marks = geo(s.marks, (f) => ({ color: '#be5aff', weight: 2, dashArray: (f.properties && f.properties.blocks === false) ? '2 4' : '6 4', fillOpacity: 0.15 }),
      (p) => 'model mark ' + (p.id || '') + ' ' + (p.class || ''));
    marks.addTo(map);
    trackLayer = L.layerGroup().addTo(map);
    violLayer = L.layerGroup().addTo(map);
    routeLine = L.polyline([], { color: '#ffe400', weight: 3, opacity: 0.95 }).addTo(map);
    routeLine.on('click', onRouteClick);
    wpLayer = L.layerGroup().addTo(map);
    L.control.layers(base, {
      'Keep-in / keep-out / goal': zones,
      'Mapped hazard outlines': hazards,
      'Model marks': marks,
      'Wheel tracks (twin)': trackLayer,
      'Violations': violLayer,
    }, { collapsed: false, position: 'topright' }).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 150 }).addTo(map);

    // A legend for what the chosen terrain layer's colours mean, and for the marks.
    const legend = L.control({ position: 'bottomright' });
    legend.onAdd = () => L.DomUtil.create('div', 'legend');
    legend.addTo(map);
    const swatch = (colour, text) => '<div><i style="background:' + colour + '"></i>' + text + '</div>';
    const marksLegend = '<div><i class="ring" style="border-color:#ff2020"></i>checker violation</div>' +
      '<div><i class="ring" style="border-color:#ff9a1f"></i>twin violation</div>' +
      '<div><i class="line" style="background:#00e6ff"></i>wheel tracks</div>' +
      '<div><i class="ring" style="border-color:#ff2d2d;width:8px;height:8px"></i>mapped hazard</div>' +
      '<div><i style="background:rgba(255,80,0,.35);border:1px solid #ff5000"></i>keep-out</div>' +
      (s.marks.features.length ? '<div><i style="border:2px dashed #be5aff"></i>model mark</div>' : '');
    const legendFor = (name) => {
      const lg = s.legend;
      let body = '';
      if (name === names.slope) body = '<b>slope</b>' + lg.slope.map(([deg, c]) => swatch(c, deg + '°' + (deg >= 30 ? ' +' : ''))).join('');
      if (name === names.hazards) body = '<b>mapped hazards</b>' + lg.hazards.map(([n, c]) => swatch(c, n.replace('_', ' '))).join('');
      if (name === names.classes) body = '<b>terrain classes</b>' + lg.classes.map(([n, c]) => swatch(c, n)).join('');
      legend.getContainer().innerHTML = body + (body ? '<hr>' : '') + marksLegend;
    };
    legendFor(names.ortho);
    map.on('baselayerchange', (e) => legendFor(e.name));
  }

  // Index of the segment nearest to a clicked point (the new waypoint goes after its start).
  function nearestSegment(latlng) {
    const w = R.state.waypoints;
    const p = map.latLngToLayerPoint(latlng);
    let best = 0, bestD = Infinity;
    for (let i = 0; i + 1 < w.length; i++) {
      const a = map.latLngToLayerPoint(ll(w[i].x, w[i].y));
      const b = map.latLngToLayerPoint(ll(w[i + 1].x, w[i + 1].y));
      const d = L.LineUtil.pointToSegmentDistance(p, a, b);
      if (d < bestD) { bestD = d; best = i; }
    }
    return best;
  }

  function onRouteClick(e) {
    L.DomEvent.stopPropagation(e);
    const i = nearestSegment(e.latlng);
    edit({ op: 'insert', index: i + 1, x: round(e.latlng.lng), y: round(e.latlng.lat) });
  }

  function round(v) { return Math.round(v * 1000) / 1000; }

  async function edit(body) {
    if (R.busy) return;
    R.busy = true;
    $('verdict').classList.add('busy');
    const t0 = performance.now();
    // The version this edit was made on: if another tab moved the plan since, the server
    // refuses (409) rather than apply indices that may name other waypoints now.
    const base = R.state ? { 'x-review-base-version': String(R.state.version) } : {};
    const r = await api('POST', '/api/edit', body, base);
    if (r.ok) {
      render(r.data);
      const ms = performance.now() - t0;
      R.lastEditMs = ms;
      $('latency').textContent = 're-check ' + ms.toFixed(0) + ' ms (server ' + r.data.evaluation.server_ms.toFixed(0) + ' ms)';
      message('');
    } else if (r.status === 409) {
      message(r.data.error, true);
      await refresh();
    } else {
      message(r.data.error || ('edit refused (' + r.status + ')'), true);
      if (R.state) render(R.state);
    }
    $('verdict').classList.remove('busy');
    R.busy = false;
  }

  function wpIcon(i, n, bad) {
    const cls = 'wp' + (i === 0 ? ' start' : '') + (i === n - 1 ? ' last' : '') + (bad ? ' bad' : '');
    return L.divIcon({ className: '', html: '<div class="' + cls + '">' + i + '</div>', iconSize: [22, 22], iconAnchor: [11, 11] });
  }

  function render(st) {
    R.state = st;
    const ev = st.evaluation;
    const v = ev.verdict, t = ev.twin;
    $('version').textContent = 'v' + st.version;
    const badge = $('verdict');
    badge.textContent = ev.pass ? 'PASS' : 'FAIL';
    badge.className = 'badge ' + (ev.pass ? 'pass' : 'fail');
    $('checker-status').textContent = 'checker ' + (v.pass ? 'pass' : 'FAIL');
    $('checker-status').className = 'gate ' + (v.pass ? 'pass' : 'fail');
    $('twin-status').textContent = 'twin ' + (t.pass ? 'pass' : 'FAIL');
    $('twin-status').className = 'gate ' + (t.pass ? 'pass' : 'fail');
    $('summary').textContent = fmt(v.summary.length_m, 1) + ' m of ' + fmt(v.summary.drive_budget_m, 0) +
      ' m budget · ' + st.waypoints.length + ' waypoints · drive ' + fmt(t.summary.duration_s / 60, 0) + ' min';

    // Route and waypoints.
    const pts = st.waypoints.map((p) => ll(p.x, p.y));
    routeLine.setLatLngs(pts);
    wpLayer.clearLayers();
    const badSeg = new Set();
    for (const x of v.violations) if (x.segment !== null && x.segment !== undefined) badSeg.add(x.segment);
    for (const x of t.violations) if (x.segment !== null && x.segment !== undefined) badSeg.add(x.segment);
    st.waypoints.forEach((p, i) => {
      const bad = badSeg.has(i) || badSeg.has(i - 1);
      const m = L.marker(ll(p.x, p.y), { icon: wpIcon(i, st.waypoints.length, bad), draggable: true, autoPan: true, keyboard: false, zIndexOffset: 1000 });
      m.bindTooltip('waypoint ' + i + '<br>x ' + fmt(p.x, 2) + ' m, y ' + fmt(p.y, 2) + ' m', { direction: 'top', offset: [0, -10] });
      m.on('dragend', () => {
        const q = m.getLatLng();
        edit({ op: 'move', index: i, x: round(q.lng), y: round(q.lat) });
      });
      m.on('contextmenu', (e) => {
        L.DomEvent.preventDefault(e.originalEvent);
        edit({ op: 'delete', index: i });
      });
      m.addTo(wpLayer);
    });

    // Wheel tracks.
    trackLayer.clearLayers();
    L.geoJSON(ev.tracks, { coordsToLatLng: (c) => ll(c[0], c[1]), style: { color: '#00e6ff', weight: 1, opacity: 0.8 }, interactive: false }).addTo(trackLayer);

    // Violations, where they occur.
    violLayer.clearLayers();
    const list = $('violations');
    list.textContent = '';
    const all = v.violations.map((x) => ({ gate: 'checker', x })).concat(t.violations.map((x) => ({ gate: 'twin', x })));
    for (const { gate, x } of all) {
      const text = gate + ' ' + x.rule + (x.segment !== null && x.segment !== undefined ? ' · segment ' + x.segment : '') +
        ': ' + unitFmt(x.measured, x.unit) + ' (limit ' + unitFmt(x.limit, x.unit) + ')';
      const li = document.createElement('li');
      li.className = gate;
      li.innerHTML = '<span class="rule"></span> <span class="what"></span><div class="dim msg"></div>';
      li.querySelector('.rule').textContent = gate + ' ' + x.rule;
      li.querySelector('.what').textContent = text.slice(gate.length + x.rule.length + 2);
      li.querySelector('.msg').textContent = x.message;
      li.dataset.rule = x.rule;
      li.dataset.gate = gate;
      if (x.x !== null && x.y !== null && isFinite(x.x) && isFinite(x.y)) {
        const colour = gate === 'checker' ? '#ff2020' : '#ff9a1f';
        // A halo, not a dot: a violation often sits under the waypoint that caused it.
        L.circleMarker(ll(x.x, x.y), {
          radius: 15, color: colour, weight: 3, fillColor: colour, fillOpacity: 0.18,
          className: 'violation-mark ' + gate, pane: 'violations',
        }).bindTooltip(gate + ' ' + x.rule + ': ' + x.message).addTo(violLayer);
        L.circleMarker(ll(x.x, x.y), { radius: 3, stroke: false, fillColor: '#fff', fillOpacity: 1, interactive: false, pane: 'violations' }).addTo(violLayer);
        li.addEventListener('click', () => map.panTo(ll(x.x, x.y)));
      }
      list.appendChild(li);
    }
    if (!all.length) {
      const li = document.createElement('li');
      li.className = 'none';
      li.textContent = 'none: both gates pass';
      list.appendChild(li);
    }
    const total = (v.violation_count !== undefined ? v.violation_count : v.violations.length);
    $('violation-count').textContent = all.length ? '(' + all.length + ' listed)' : '';
    void total;
    const cl = $('cautions');
    cl.textContent = '';
    for (const x of t.cautions) {
      const li = document.createElement('li');
      li.textContent = x.rule + ': ' + unitFmt(x.measured, x.unit) + ' (nominal ' + unitFmt(x.limit, x.unit) + ') at ' + fmt(x.distance_m, 1) + ' m';
      cl.appendChild(li);
    }
    $('caution-count').textContent = '(' + t.cautions.length + ')';

    // Rules table.
    const tb = document.querySelector('#rules tbody');
    tb.textContent = '';
    for (const r of v.rules) {
      const tr = document.createElement('tr');
      if (r.violations > 0) tr.className = 'fail';
      for (const c of [r.rule, unitFmt(r.worst, r.unit), unitFmt(r.limit, r.unit), r.violations || '–']) {
        const td = document.createElement('td');
        td.textContent = c;
        tr.appendChild(td);
      }
      tb.appendChild(tr);
    }

    // Waypoint list.
    const wl = $('waypoints');
    wl.textContent = '';
    st.waypoints.forEach((p, i) => {
      const li = document.createElement('li');
      const span = document.createElement('span');
      span.textContent = fmt(p.x, 2) + ', ' + fmt(p.y, 2);
      li.appendChild(span);
      const del = document.createElement('button');
      del.className = 'small';
      del.textContent = '✕';
      del.title = 'delete waypoint ' + i;
      del.disabled = st.waypoints.length <= 2;
      del.addEventListener('click', (e) => { e.stopPropagation(); edit({ op: 'delete', index: i }); });
      li.appendChild(del);
      li.addEventListener('click', () => map.panTo(ll(p.x, p.y)));
      wl.appendChild(li);
    });
    $('waypoint-count').textContent = '(' + st.waypoints.length + ')';

    // History.
    const hl = $('history');
    hl.textContent = '';
    for (const h of st.history.slice().reverse()) {
      const li = document.createElement('li');
      const e = h.edit;
      let what = e.op;
      if (e.op === 'move' || e.op === 'insert') what += ' ' + e.index + ' → ' + fmt(e.x, 1) + ', ' + fmt(e.y, 1);
      if (e.op === 'delete') what += ' ' + e.index;
      li.textContent = h.time.slice(11, 19) + ' v' + h.version + ' ' + what + (h.pass ? ' · pass' : ' · FAIL');
      hl.appendChild(li);
    }
    $('history-count').textContent = '(' + st.history.length + ')';

    $('undo').disabled = !st.can_undo;
    $('redo').disabled = !st.can_redo;
    if (st.approved) {
      $('approval-status').textContent = 'approved v' + st.approved.version + ' by ' + st.approved.reviewer + ' at ' +
        st.approved.time + ': wrote ' + st.approved.files.map((f) => f.split('/').pop()).join(', ') +
        (st.version > st.approved.version + 1 ? ' (the route has been edited since: approve again to record it)' : '');
    }
    updateApprove();
    drawPlot();
  }

  function updateApprove() {
    const ok = R.state && R.state.evaluation.pass && $('reviewer').value.trim() && $('note').value.trim();
    $('approve').disabled = !ok;
    $('approve').title = (R.state && !R.state.evaluation.pass) ? 'both gates must pass' : '';
  }

  async function approve() {
    $('approve').disabled = true;
    const r = await api('POST', '/api/approve', {
      reviewer: $('reviewer').value, note: $('note').value, version: R.state.version,
    });
    if (r.ok) {
      message('approved: ' + r.data.files.map((f) => f.split('/').pop()).join(', ') + ' written');
      await refresh();
    } else {
      message(r.data.error || ('approval refused (' + r.status + ')'), true);
    }
    updateApprove();
  }

  // Telemetry plot: tilt and belly clearance against distance, with limits and violations.
  function drawPlot() {
    const c = $('plot');
    const dpr = window.devicePixelRatio || 1;
    const W = c.clientWidth, H = c.clientHeight;
    if (!W || !H || !R.state) return;
    c.width = W * dpr; c.height = H * dpr;
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, W, H);
    const p = R.state.evaluation.telemetry;
    const d = p.distance_m;
    const maxD = Math.max(1, d.length ? d[d.length - 1] : 1, R.state.evaluation.twin.summary.distance_m || 0);
    const L0 = 64, R0 = 16, panels = [
      { key: 'tilt_deg', name: 'chassis tilt (°)', limit: p.tilt_limit_deg, colour: '#ffb347', lo: 0, hi: Math.max(5, (p.tilt_limit_deg || 25) * 1.1), dec: 0 },
      { key: 'clearance_m', name: 'belly clearance (m)', limit: p.clearance_limit_m, colour: '#4fc3f7', lo: 0, hi: 0.7, dec: 1 },
      { key: 'wheel_step_m', name: 'wheel step (m)', limit: p.wheel_step_limit_m, colour: '#b39ddb', lo: 0, hi: Math.max(0.05, (p.wheel_step_limit_m || 0.35) * 1.15), dec: 2 },
    ];
    const ph = (H - 22) / panels.length;
    const X = (v) => L0 + (W - L0 - R0) * v / maxD;
    g.font = '11px system-ui, sans-serif';
    panels.forEach((pn, k) => {
      const top = 6 + k * ph, bot = top + ph - 10;
      const vals = p[pn.key];
      let hi = pn.hi;
      for (const v of vals) if (v !== null && v > hi) hi = v * 1.05;
      const Y = (v) => bot - (bot - top) * (v - pn.lo) / (hi - pn.lo);
      g.fillStyle = '#12151a'; g.fillRect(L0, top, W - L0 - R0, bot - top);
      g.strokeStyle = '#2c323c'; g.strokeRect(L0 + 0.5, top + 0.5, W - L0 - R0 - 1, bot - top - 1);
      g.fillStyle = '#9aa3ae';
      g.textAlign = 'right';
      g.fillText(fmt(hi, pn.dec), L0 - 4, top + 9);
      g.fillText(fmt(pn.lo, pn.dec), L0 - 4, bot);
      g.textAlign = 'left';
      g.fillStyle = pn.colour;
      g.fillText(pn.name, L0 + 6, top + 12);
      if (pn.limit !== null && pn.limit !== undefined) {
        g.strokeStyle = '#ff5252'; g.setLineDash([5, 4]);
        g.beginPath(); g.moveTo(L0, Y(pn.limit)); g.lineTo(W - R0, Y(pn.limit)); g.stroke();
        g.setLineDash([]);
        g.fillStyle = '#ff8a80'; g.textAlign = 'right';
        g.fillText('limit ' + fmt(pn.limit, pn.dec + 1), W - R0 - 4, Y(pn.limit) - 3);
        g.textAlign = 'left';
      }
      g.strokeStyle = pn.colour; g.lineWidth = 1.4;
      g.beginPath();
      let pen = false;
      for (let i = 0; i < d.length; i++) {
        const v = vals[i];
        if (v === null || v === undefined) { pen = false; continue; }
        const x = X(d[i]), y = Y(Math.min(v, hi));
        if (pen) g.lineTo(x, y); else g.moveTo(x, y);
        pen = true;
      }
      g.stroke(); g.lineWidth = 1;
    });
    // The probe: where the pointer is along the drive, and the values there.
    if (R.probe !== null && R.probe !== undefined && R.probe < d.length) {
      const i = R.probe, x = X(d[i]);
      g.strokeStyle = '#e3e6ea'; g.beginPath(); g.moveTo(x, 6); g.lineTo(x, H - 22); g.stroke();
      const t = p.tilt_deg[i], c = p.clearance_m[i];
      const label = fmt(d[i], 1) + ' m · tilt ' + (t === null ? '–' : fmt(t, 1) + '°') + ' · clearance ' +
        (c === null ? '–' : fmt(c, 2) + ' m') + ' · step ' + fmt(p.wheel_step_m[i], 3) + ' m';
      g.fillStyle = 'rgba(20,23,28,.9)';
      const w = g.measureText(label).width + 10;
      const lx = Math.min(x + 6, W - R0 - w);
      g.fillRect(lx, 8, w, 16);
      g.fillStyle = '#e3e6ea'; g.fillText(label, lx + 5, 20);
    }
    // Twin violations along the drive.
    g.fillStyle = '#ff2020';
    for (const x of R.state.evaluation.twin.violations) {
      if (isFinite(x.distance_m)) g.fillRect(X(x.distance_m) - 1, 6, 2, H - 28);
    }
    // Distance axis.
    g.fillStyle = '#9aa3ae'; g.textAlign = 'center';
    const step = maxD > 400 ? 100 : maxD > 150 ? 50 : maxD > 60 ? 20 : 10;
    for (let m = 0; m <= maxD + 1e-6; m += step) g.fillText(m + ' m', X(m), H - 6);
    g.textAlign = 'left';
  }

  // Hovering the plot marks the rover's place on the map.
  function setupProbe() {
    const c = $('plot');
    const probe = L.circleMarker([0, 0], { radius: 8, color: '#fff', weight: 2, fillColor: '#00e6ff', fillOpacity: 0.9, interactive: false, pane: 'probe' });
    c.addEventListener('mousemove', (e) => {
      if (!R.state) return;
      const p = R.state.evaluation.telemetry, d = p.distance_m;
      if (!d.length) return;
      const r = c.getBoundingClientRect();
      const maxD = Math.max(1, d[d.length - 1], R.state.evaluation.twin.summary.distance_m || 0);
      const dist = (e.clientX - r.left - 64) / (r.width - 64 - 16) * maxD;
      let i = 0;
      while (i + 1 < d.length && d[i + 1] <= dist) i++;
      R.probe = i;
      probe.setLatLng(ll(p.x_m[i], p.y_m[i]));
      if (!map.hasLayer(probe)) probe.addTo(map);
      drawPlot();
    });
    c.addEventListener('mouseleave', () => { R.probe = null; probe.remove(); drawPlot(); });
  }

  async function refresh() {
    const r = await api('GET', '/api/state');
    if (r.ok) render(r.data);
  }

  // A second tab sees the latest state: poll the version, fetch the state when it moved.
  async function poll() {
    if (!R.busy && R.state) {
      const r = await api('GET', '/api/version');
      if (r.ok && r.data.version !== R.state.version && !R.busy) await refresh();
    }
    setTimeout(poll, 1000);
  }

  async function main() {
    const s = await api('GET', '/api/session');
    if (!s.ok) { message(s.data.error || 'cannot load the session', true); return; }
    R.session = s.data;
    $('sol-id').textContent = 'sol ' + s.data.sol.id;
    $('rover').textContent = 'rover ' + s.data.rover + ' · ' + s.data.plan.split('/').slice(-2).join('/');
    $('rover').title = s.data.plan + ' (approval writes into ' + s.data.out_dir + ')';
    document.title = 'review ' + s.data.sol.id;
    const sol = s.data.sol;
    $('sol-notes').textContent = (sol.notes || '').trim() + ' Start (' + fmt(sol.start.x, 1) + ', ' + fmt(sol.start.y, 1) +
      ') heading ' + fmt(sol.start.heading_deg, 1) + '°; goal (' + fmt(sol.goal.x, 1) + ', ' + fmt(sol.goal.y, 1) + ') ± ' +
      fmt(sol.goal.tolerance_m, 1) + ' m; budget ' + fmt(sol.drive_budget_m, 0) + ' m; ' + (sol.keep_out || []).length +
      ' keep-out zone(s); ' + s.data.marks.features.length + ' model mark(s) enforced.';
    $('export').href = '/api/export.geojson?token=' + token;
    setupMap(s.data);
    R.map = map;
    R.edit = edit;
    await refresh();
    $('undo').addEventListener('click', () => edit({ op: 'undo' }));
    $('redo').addEventListener('click', () => edit({ op: 'redo' }));
    $('approve').addEventListener('click', approve);
    $('reviewer').addEventListener('input', updateApprove);
    $('note').addEventListener('input', updateApprove);
    document.addEventListener('keydown', (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.target.tagName === 'INPUT' || e.target.tagName === 'TEXTAREA') return;
      if (e.key.toLowerCase() === 'z' && !e.shiftKey && R.state.can_undo) { e.preventDefault(); edit({ op: 'undo' }); }
      if (((e.key.toLowerCase() === 'z' && e.shiftKey) || e.key.toLowerCase() === 'y') && R.state.can_redo) { e.preventDefault(); edit({ op: 'redo' }); }
    });
    window.addEventListener('resize', drawPlot);
    setupProbe();
    R.ready = true;
    setTimeout(poll, 1000);
  }

  main();
})();
