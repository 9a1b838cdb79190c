// actsim report viewer: reads the JSON in #data and draws the page. Vanilla JS and SVG built as
// strings (one innerHTML per view); the message diagram draws only its time window.
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('data').textContent);
  var OUT = ['ok', 'fail', 'info'];
  var SIDE_COLOR = { majority: '#1f5fa8', minority: '#b3541e' };
  var PALETTE = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#17becf', '#7f7f7f', '#bcbd22', '#e377c2', '#ff7f0e', '#393b79'];
  var END = Math.max(D.end, 1);

  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function fmt(us) {
    if (us < 0) return 'never';
    return (us / 1e6).toFixed(6) + 's';
  }
  function fmtAxis(us, span) {
    if (span < 5e3) return (us / 1e3).toFixed(2) + 'ms';
    if (span < 5e5) return (us / 1e3).toFixed(1) + 'ms';
    if (span < 5e6) return (us / 1e6).toFixed(2) + 's';
    return (us / 1e6).toFixed(1) + 's';
  }
  function el(id) { return document.getElementById(id); }
  function nodeName(n) { return 'n' + n; }
  function side(n) { return D.sides[String(n)] || ''; }

  // ---- operations ----
  var ops = D.ops.map(function (r, i) {
    return { i: i, proc: r[0], node: r[1], key: r[2], op: r[3], out: r[4], ret: r[5], s: r[6], e: r[7] };
  });
  function opEnd(o) { return o.e < 0 ? END : o.e; }
  function opText(o) {
    var lat = o.e < 0 ? '' : '  (' + ((o.e - o.s) / 1e3).toFixed(1) + ' ms)';
    return '#' + o.i + '  process ' + o.proc + (o.node >= 0 ? '  client ' + nodeName(o.node) + (side(o.node) ? ' (' + side(o.node) + ')' : '') : '') +
      '\n' + o.op + '  ->  ' + (o.out === 'ok' ? o.ret : o.out) +
      '\ninvoked ' + fmt(o.s) + '\ncompleted ' + fmt(o.e) + lat;
  }

  // The failing verdicts and the op to blame.
  var failing = D.verdicts.filter(function (v) { return v.status === 'invalid'; });
  // the first operation each failing verdict blames; the first of them is the page's focus
  var blamedList = [], blamedSet = {};
  failing.forEach(function (v) {
    if (!v.blamed_ops.length) return;
    var o = ops[v.blamed_ops[0]];
    if (!blamedSet[o.i]) { blamedSet[o.i] = v.model; blamedList.push(o); } else blamedSet[o.i] += ', ' + v.model;
  });
  var blamedOp = blamedList.length ? blamedList[0] : null;

  // ---- tooltip ----
  var tip = document.createElement('div');
  tip.id = 'tooltip';
  document.body.appendChild(tip);
  function showTip(ev, text) {
    tip.textContent = text;
    tip.style.display = 'block';
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + 560 > window.innerWidth) x = Math.max(0, ev.clientX - 570);
    tip.style.left = x + 'px';
    tip.style.top = y + 'px';
  }
  function hideTip() { tip.style.display = 'none'; }
  var tipTexts = {};
  function hoverable(container) {
    container.addEventListener('mousemove', function (ev) {
      var t = ev.target;
      if (t && t.getAttribute) {
        var i = t.getAttribute('data-i');
        if (i !== null) { showTip(ev, opText(ops[+i])); return; }
        var k = t.getAttribute('data-tip');
        if (k !== null && tipTexts[k] !== undefined) { showTip(ev, tipTexts[k]); return; }
      }
      hideTip();
    });
    container.addEventListener('mouseleave', hideTip);
  }

  // ---- shared drawing helpers ----
  function axis(x0, x1, left, width, y, h) {
    var span = x1 - x0, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    [1, 2, 5, 10].some(function (m) { if (span / (step * m) <= 10) { step *= m; return true; } return false; });
    var s = '<g class="axis">';
    for (var t = Math.ceil(x0 / step) * step; t <= x1; t += step) {
      var x = left + (t - x0) / span * width;
      s += '<line class="grid" x1="' + x + '" x2="' + x + '" y1="' + y + '" y2="' + (y + h) + '"/>' +
        '<text x="' + x + '" y="' + (y - 3) + '" text-anchor="middle">' + fmtAxis(t, span) + '</text>';
    }
    return s + '</g>';
  }
  function scale(x0, x1, left, width) {
    return function (t) { return left + (Math.min(Math.max(t, x0), x1) - x0) / (x1 - x0) * width; };
  }
  function widthOf(id) {
    var w = el(id).clientWidth || 1300;
    return Math.max(700, w - 4);
  }
  // Wheel zooms around the cursor, drag pans; `view` is {x0, x1}, `draw` redraws.
  function zoomable(svgHost, view, left, width, draw, lo, hi) {
    svgHost.addEventListener('wheel', function (ev) {
      ev.preventDefault();
      var r = svgHost.getBoundingClientRect();
      var f = Math.min(Math.max((ev.clientX - r.left - left) / width, 0), 1);
      var at = view.x0 + f * (view.x1 - view.x0);
      var k = ev.deltaY > 0 ? 1.25 : 0.8;
      var span = Math.max((view.x1 - view.x0) * k, 20);
      view.x0 = Math.max(lo, at - f * span);
      view.x1 = Math.min(hi, view.x0 + span);
      draw();
    }, { passive: false });
    var drag = null;
    svgHost.addEventListener('mousedown', function (ev) { drag = { x: ev.clientX, x0: view.x0, x1: view.x1 }; });
    window.addEventListener('mouseup', function () { drag = null; });
    window.addEventListener('mousemove', function (ev) {
      if (!drag) return;
      var d = (ev.clientX - drag.x) / width * (drag.x1 - drag.x0);
      var span = drag.x1 - drag.x0;
      view.x0 = Math.min(Math.max(lo, drag.x0 - d), hi - span);
      view.x1 = view.x0 + span;
      draw();
    });
  }

  // One sentence per failing verdict: what failed, where and when.
  function headline(v) {
    var o = v.blamed_ops.length ? ops[v.blamed_ops[0]] : null;
    if (!o) return '✖ ' + v.model + ': ' + v.summary.split('\n')[0];
    var who = o.node >= 0 ? ' on client ' + nodeName(o.node) + (side(o.node) ? ' (' + side(o.node) + ')' : '') : ' by process ' + o.proc;
    var what = '#' + o.i + ' ' + o.op + ' → ' + (o.out === 'ok' ? o.ret : o.out) + who + ', ' + fmt(o.s) + ' – ' + fmt(o.e);
    if (v.prefix_ops.length || /linear/.test(v.model))
      return '✖ ' + v.model + (v.key ? ' (' + v.key + ')' : '') + ': ' + what + ' cannot be placed after the longest linearizable prefix of ' + v.prefix_ops.length + ' operations.';
    return '✖ ' + v.model + ': ' + (v.summary.split(/[:\n]/)[0]) + ': ' + v.blamed_ops.map(function (i) { return '#' + i; }).join(' → ') + (v.blamed_ops.length > 1 ? ' → #' + v.blamed_ops[0] : '') + ' (first: ' + what + ').';
  }

  // ---- header ----
  function header() {
    var h = '<h1>' + esc(D.title) + '</h1><div class="meta"><span>protocol <b>' + esc(D.protocol) + '</b></span><span>seed <b>' + D.seed + '</b></span>' +
      '<span><b>' + ops.length + '</b> operations</span>' +
      (D.events ? '<span><b>' + D.events.t.length + '</b> messages, drops and node faults traced</span>' : '<span>no trace</span>') +
      '<span><b>' + D.faults.length + '</b> faults</span><span>run ends at <b>' + fmt(END) + '</b></span></div>';
    h += '<div class="meta">' + D.config.map(function (kv) { return '<span>' + esc(kv[0]) + ' <b>' + esc(kv[1]) + '</b></span>'; }).join('') + '</div>';
    h += '<div class="verdicts">' + D.verdicts.map(function (v) {
      return '<span class="chip ' + v.status + '" id="verdict-' + esc(v.model) + '">' + esc(v.model) + ': ' + v.status.toUpperCase() + '</span>';
    }).join('') + '</div>';
    failing.forEach(function (v) {
      h += '<div class="headline">' + esc(headline(v)) + '</div>';
      h += '<details><summary>the ' + esc(v.model) + ' checker\'s own words</summary><div class="summary">' + esc(v.summary) + '</div></details>';
    });
    if (D.reproduce) h += '<div class="cmdrow"><span>reproduce</span><code class="cmd">' + esc(D.reproduce) + '</code></div>';
    if (D.shrink) h += '<div class="cmdrow"><span>shrink</span><code class="cmd">' + esc(D.shrink) + '</code></div>';
    return h;
  }
  function legend() {
    function sw(c, t, extra) { return '<span><span class="sw" style="background:' + c + (extra || '') + '"></span>' + t + '</span>'; }
    return '<div class="legend"><b>Operations:</b>' + sw('#3f9c5a', 'ok') + sw('#e57373', 'fail (no effect)') + sw('#ffb74d', 'info (timed out: may or may not have happened)') +
      sw('#ff1744', 'blamed by the checker', ';border:2px solid #c00000') +
      '<b>Faults:</b>' + sw('#8e7cc3', 'partition') + sw('#555', 'crash') + sw('#e6b800', 'pause') + sw('#45b0b0', 'clock') + sw('#6fa8dc', 'clog') +
      (Object.keys(D.sides).length ? '<b>Sides:</b>' + sw(SIDE_COLOR.majority, 'majority') + sw(SIDE_COLOR.minority, 'minority') : '') + '</div>';
  }

  // ---- timeline ----
  // Lanes: one per client node (a client retries under fresh process ids), else per process.
  function lanesOf(list, byProcess) {
    var m = {}, order = [];
    list.forEach(function (o) {
      var id = (!byProcess && o.node >= 0) ? 'n' + o.node : 'p' + o.proc;
      if (!m[id]) { m[id] = { id: id, node: byProcess ? -1 : o.node, proc: o.proc, ops: [] }; order.push(m[id]); }
      m[id].ops.push(o);
    });
    order.sort(function (a, b) {
      var sa = side(a.node), sb = side(b.node);
      if (sa !== sb) return sa < sb ? -1 : 1;
      return a.node !== b.node ? a.node - b.node : a.proc - b.proc;
    });
    order.forEach(function (l) { // sub-rows for overlapping operations
      var rowEnd = [];
      l.ops.forEach(function (o) {
        var r = 0;
        while (r < rowEnd.length && rowEnd[r] > o.s) r++;
        rowEnd[r] = opEnd(o);
        o.row = r;
      });
      l.rows = Math.max(1, rowEnd.length);
    });
    return order;
  }
  var tlLanes = lanesOf(ops, false);
  var MAX_BARS = 20000; // operations drawn one bar each; more are aggregated per pixel column
  var tlView = { x0: 0, x1: END };
  function faultRows() {
    var rows = [], idx = {};
    D.faults.forEach(function (b) {
      var k = (b.kind === 'partition' || b.kind === 'clog' || b.kind === 'links') ? b.kind : b.kind + ' ' + b.nodes.map(nodeName).join(',');
      if (idx[k] === undefined) { idx[k] = rows.length; rows.push({ name: k, bands: [] }); }
      rows[idx[k]].bands.push(b);
    });
    return rows;
  }
  var fRows = faultRows();
  function bandTip(b) {
    var k = 'band' + D.faults.indexOf(b);
    tipTexts[k] = b.label + '\nfrom ' + fmt(b.s) + ' to ' + fmt(b.e) +
      (b.groups.length ? '\ngroups: ' + b.groups.map(function (g) { return '{' + g.map(nodeName).join(' ') + '}'; }).join(' | ') : '');
    return k;
  }
  function drawTimeline() {
    var W = widthOf('timeline'), L = 130, PW = W - L - 10;
    var x = scale(tlView.x0, tlView.x1, L, PW), LH = 16;
    var y = 22, s = '';
    // fault rows
    var fy = y;
    fRows.forEach(function (r) {
      s += '<text x="4" y="' + (y + 11) + '">' + esc(r.name) + '</text>';
      r.bands.forEach(function (b) {
        if (b.e < tlView.x0 || b.s > tlView.x1) return;
        var x0 = x(b.s), w = Math.max(2, x(b.e) - x0);
        s += '<rect class="fault-band ' + b.kind + '" data-tip="' + bandTip(b) + '" x="' + x0 + '" y="' + y + '" width="' + w + '" height="13" rx="2"/>';
        if (w > 60) s += '<text x="' + (x0 + 4) + '" y="' + (y + 10) + '" style="fill:#fff;pointer-events:none">' + esc(b.label.length * 6 > w ? b.label.slice(0, Math.floor(w / 6)) + '…' : b.label) + '</text>';
      });
      y += 16;
    });
    if (fRows.length === 0) { s += '<text x="4" y="' + (y + 11) + '" style="fill:#888">no faults</text>'; y += 16; }
    y += 6;
    var laneTop = y, total = tlLanes.reduce(function (a, l) { return a + l.rows * LH + 4; }, 0);
    // background bands (partitions across all lanes, node faults on that client's lane)
    var bg = '';
    D.faults.forEach(function (b) {
      if (b.e < tlView.x0 || b.s > tlView.x1) return;
      if (b.kind === 'partition' || b.kind === 'clog')
        bg += '<rect class="bg-band ' + b.kind + '" style="fill:' + (b.kind === 'partition' ? '#8e7cc3' : '#6fa8dc') + '" x="' + x(b.s) + '" y="' + fy + '" width="' + Math.max(1, x(b.e) - x(b.s)) + '" height="' + (laneTop - fy + total) + '"/>';
    });
    s = bg + s;
    var body = '', visible = 0;
    ops.forEach(function (o) { if (opEnd(o) >= tlView.x0 && o.s <= tlView.x1) visible++; });
    var aggregate = visible > MAX_BARS;
    tlLanes.forEach(function (l) {
      var h = l.rows * LH;
      var sd = side(l.node);
      body += '<rect x="0" y="' + y + '" width="' + (L - 6) + '" height="' + h + '" style="fill:' + (sd ? SIDE_COLOR[sd] || '#888' : '#888') + ';opacity:.12"/>';
      body += '<text class="lane-label" x="4" y="' + (y + 12) + '" style="fill:' + (SIDE_COLOR[sd] || '#333') + '">' +
        (l.node >= 0 ? 'client ' + nodeName(l.node) : 'process ' + l.proc) + (sd ? ' · ' + sd : '') + '</text>';
      body += '<line x1="' + L + '" x2="' + (L + PW) + '" y1="' + (y + h + 1) + '" y2="' + (y + h + 1) + '" style="stroke:#eef0f2"/>';
      if (aggregate) {
        // Too many bars to draw one by one: one rect per 2-pixel column of each lane, coloured
        // by the outcome most of its operations had (zoom in for single operations).
        var cols = {};
        l.ops.forEach(function (o) {
          if (opEnd(o) < tlView.x0 || o.s > tlView.x1) return;
          var c0 = Math.floor((x(o.s) - L) / 2), c1 = Math.floor((x(opEnd(o)) - L) / 2);
          for (var c = c0; c <= c1; c++) { var b = cols[c] || (cols[c] = [0, 0, 0]); b[OUT.indexOf(o.out)]++; }
        });
        Object.keys(cols).forEach(function (c) {
          var b = cols[c], m = b[0] >= b[1] && b[0] >= b[2] ? 0 : b[1] >= b[2] ? 1 : 2;
          var key = 'agg' + l.id + '_' + c;
          tipTexts[key] = (l.node >= 0 ? 'client ' + nodeName(l.node) : 'process ' + l.proc) + ': ' + b[0] + ' ok, ' + b[1] + ' fail, ' + b[2] + ' info\n(zoom in to see single operations)';
          body += '<rect class="op-agg ' + OUT[m] + '" data-tip="' + key + '" x="' + (L + c * 2) + '" y="' + (y + 2) + '" width="2" height="' + (h - 4) + '"/>';
        });
      }
      l.ops.forEach(function (o) {
        if (opEnd(o) < tlView.x0 || o.s > tlView.x1) return;
        if (aggregate && !blamedSet[o.i]) return;
        var x0 = x(o.s), w = Math.max(1.2, x(opEnd(o)) - x0);
        var cls = 'op ' + o.out + (blamedSet[o.i] ? ' blamed' : '');
        body += '<rect class="' + cls + '" data-i="' + o.i + '" x="' + x0.toFixed(1) + '" y="' + (y + o.row * LH + 2) + '" width="' + w.toFixed(1) + '" height="' + (LH - 4) + '"/>';
      });
      y += h + 4;
    });
    s += body;
    // the blamed ops: a pin and a label below the lanes so they are found at a glance
    var lanesBottom = y;
    blamedList.forEach(function (bo) {
      if (opEnd(bo) < tlView.x0 || bo.s > tlView.x1) return;
      var bx = x(bo.s), by = laneTop;
      tlLanes.some(function (l) { if (l.ops.indexOf(bo) >= 0) return true; by += l.rows * LH + 4; return false; });
      by += bo.row * LH + LH / 2;
      s += '<line x1="' + bx + '" x2="' + bx + '" y1="' + (laneTop - 4) + '" y2="' + (y + 4) + '" style="stroke:#c00000;stroke-width:1;stroke-dasharray:3 2"/>';
      var label = '✖ #' + bo.i + ' ' + bo.op + ' → ' + (bo.out === 'ok' ? bo.ret : bo.out) + ' (' + blamedSet[bo.i] + ')';
      var lx = Math.max(L, Math.min(bx + 6, L + PW - label.length * 6.2));
      s += '<circle cx="' + bx + '" cy="' + by + '" r="7" style="fill:none;stroke:#c00000;stroke-width:2"/>';
      s += '<text x="' + lx + '" y="' + (y + 16) + '" style="fill:#c00000;font-weight:700">' + esc(label) + '</text>';
      y += 16;
    });
    if (y > lanesBottom) y += 4;
    var H = y + 8;
    el('timeline-svg').innerHTML = '<svg width="' + W + '" height="' + H + '">' + axis(tlView.x0, tlView.x1, L, PW, 14, H - 14) + s + '</svg>';
    el('timeline-range').textContent = fmt(tlView.x0) + ' – ' + fmt(tlView.x1) + ': ' + visible + ' operations' +
      (aggregate ? ' (more than ' + MAX_BARS + ': drawn as columns of 2 px, zoom in to see each)' : '');
  }

  // ---- counterexample ----
  function writerOf(o) {
    if (o.out !== 'ok' || !/^read\(/.test(o.op)) return null;
    var want = 'write(' + o.key + ', ' + o.ret + ')';
    for (var i = 0; i < ops.length; i++) if (ops[i].op === want) return ops[i];
    return null;
  }
  function drawCounterexample() {
    var host = el('cex-body');
    if (!failing.length) {
      host.innerHTML = '<p class="note">Every model checked is satisfied: no counterexample.</p>';
      return;
    }
    var out = '';
    failing.forEach(function (v, vi) {
      var blamed = v.blamed_ops.map(function (i) { return ops[i]; });
      var prefix = v.prefix_ops.map(function (i) { return ops[i]; });
      var isLin = v.prefix_ops.length > 0 || /linear/.test(v.model);
      var shownPrefix = prefix.slice(Math.max(0, prefix.length - 12));
      var focus = blamed.concat(shownPrefix);
      var writer = blamed.length ? writerOf(blamed[0]) : null;
      if (!focus.length) { out += '<p class="note">' + esc(v.model) + ': the checker named no operations.</p>'; return; }
      // the window covers the blamed and the last prefix operations (an operation outstanding
      // until the end of the run would stretch it: count it up to the last one invoked)
      var lastStart = Math.max.apply(null, focus.map(function (o) { return o.s; }));
      var x0 = Math.min.apply(null, focus.map(function (o) { return o.s; }));
      var x1 = Math.max.apply(null, focus.map(function (o) { return o.e < 0 ? lastStart : o.e; }));
      if (writer && writer.s >= x0 - (x1 - x0) && focus.indexOf(writer) < 0) { focus.push(writer); x0 = Math.min(x0, writer.s); }
      var pad = Math.max((x1 - x0) * 0.08, 500);
      x0 = Math.max(0, x0 - pad); x1 = Math.min(END, x1 + pad);
      // every op of the key (or the focus ops, for a whole-history check) that overlaps the window
      var keyOps = v.key !== null && v.key !== undefined
        ? ops.filter(function (o) { return ('key ' + o.key) === v.key || o.key === v.key; })
        : focus;
      if (!keyOps.length) keyOps = focus;
      var shown = keyOps.filter(function (o) { return opEnd(o) >= x0 && o.s <= x1; });
      focus.forEach(function (o) { if (shown.indexOf(o) < 0) shown.push(o); });
      shown.sort(function (a, b) { return a.i - b.i; });
      var lanes = lanesOf(shown.map(function (o) { return Object.assign({}, o, { orig: o }); }), true);
      var W = widthOf('counterexample'), L = 110, PW = W - L - 10, LH = 20;
      var x = scale(x0, x1, L, PW), y = 24, s = '', centres = {};
      var pos = {}; shownPrefix.forEach(function (o, k) { pos[o.i] = prefix.length - shownPrefix.length + k + 1; });
      var bl = {}; blamed.forEach(function (o, k) { bl[o.i] = k; });
      D.faults.forEach(function (b) {
        if (b.e < x0 || b.s > x1 || (b.kind !== 'partition' && b.kind !== 'clog')) return;
        s += '<rect class="bg-band" style="fill:#8e7cc3" x="' + x(b.s) + '" y="18" width="' + Math.max(1, x(b.e) - x(b.s)) + '" height="2000"/>';
      });
      lanes.forEach(function (l) {
        var h = l.rows * LH;
        var n = l.ops[0].node;
        s += '<text class="lane-label" x="4" y="' + (y + 14) + '" style="fill:' + (SIDE_COLOR[side(n)] || '#333') + '">p' + l.proc + (n >= 0 ? ' @' + nodeName(n) : '') + '</text>';
        l.ops.forEach(function (c) {
          var o = c.orig, xs = x(o.s), w = Math.max(3, x(opEnd(o)) - xs), yy = y + c.row * LH + 2;
          var cls = 'op ' + o.out, style = '';
          if (bl[o.i] === 0) cls += ' blamed cex-blamed';
          else if (bl[o.i] !== undefined) { style = 'stroke:#c00000;stroke-width:1.5;stroke-dasharray:4 2'; cls += ' cex-stuck'; }
          else if (pos[o.i]) { style = 'fill:#2f6fb5'; cls += ' cex-prefix'; }
          else if (writer && o.i === writer.i) style = 'fill:#8e44ad';
          else cls += ' dim';
          s += '<rect class="' + cls + '" data-i="' + o.i + '" x="' + xs.toFixed(1) + '" y="' + yy + '" width="' + w.toFixed(1) + '" height="' + (LH - 6) + '" style="' + style + '"/>';
          var label = o.op + ' → ' + (o.out === 'ok' ? o.ret : o.out);
          if (w > label.length * 6) s += '<text x="' + (xs + 3) + '" y="' + (yy + 11) + '" style="fill:#fff;pointer-events:none;font-size:10px">' + esc(label) + '</text>';
          centres[o.i] = [xs + Math.min(w / 2, 8), yy + (LH - 6) / 2];
          if (pos[o.i]) s += '<text x="' + (xs + 2) + '" y="' + (yy - 1) + '" style="font-size:9px;fill:#2f6fb5;font-weight:700">' + pos[o.i] + '</text>';
        });
        y += h + 6;
      });
      // the order: the prefix's linearization (blue) or the cycle (red arrows)
      var path = isLin ? shownPrefix : blamed.concat(blamed.length > 1 ? [blamed[0]] : []);
      var pts = path.map(function (o) { return centres[o.i]; }).filter(Boolean);
      if (pts.length > 1) {
        s += '<defs><marker id="cexarrow' + vi + '" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" style="fill:' + (isLin ? '#2f6fb5' : '#c00000') + '"/></marker></defs>';
        for (var k = 1; k < pts.length; k++)
          s += '<line x1="' + pts[k - 1][0] + '" y1="' + pts[k - 1][1] + '" x2="' + pts[k][0] + '" y2="' + pts[k][1] + '" marker-end="url(#cexarrow' + vi + ')" style="stroke:' + (isLin ? '#2f6fb5' : '#c00000') + ';stroke-width:1.3;opacity:.8;pointer-events:none"/>';
      }
      var H = y + 10;
      var title = '<h2>' + esc(v.model) + (v.key ? ' — ' + esc(v.key) : '') + '</h2>';
      var text;
      if (isLin) {
        text = '<p class="note">The longest linearizable prefix has <b>' + prefix.length + '</b> operations (the last ' + shownPrefix.length +
          ' in <span style="color:#2f6fb5;font-weight:700">blue</span>, numbered in linearization order). After it, the <span class="warn">red</span> operation cannot be placed: no order of the remaining operations explains what it returned' +
          (blamed.length > 1 ? ' (the dashed ones could not be placed either)' : '') + '.' +
          (writer ? ' The value it read was written by <span style="color:#8e44ad;font-weight:700">#' + writer.i + '</span>.' : '') + '</p>';
      } else {
        text = '<p class="note">' + esc(v.summary.split('\n')[0]) + ' The <span class="warn">red</span> arrows follow the operations the checker names, in its order' +
          (blamed.length > 1 ? ' (back to the first: a cycle)' : '') + '.</p>';
      }
      var rows = blamed.map(function (o) { return [o, 'blamed']; });
      if (writer) rows.push([writer, 'writer']);
      shownPrefix.slice().reverse().slice(0, 4).forEach(function (o) { rows.push([o, 'prefix #' + pos[o.i]]); });
      var table = '<table class="ops"><tr><th></th><th>op</th><th>process</th><th>client</th><th>operation</th><th>result</th><th>invoked</th><th>completed</th></tr>' +
        rows.map(function (r) {
          var o = r[0];
          return '<tr class="' + (r[1] === 'blamed' ? 'blamed' : r[1] === 'writer' ? 'writer' : '') + '"><td>' + (r[1] === 'writer' ? 'wrote the value' : r[1]) + '</td><td>#' + o.i + '</td><td>' + o.proc + '</td><td>' + (o.node >= 0 ? nodeName(o.node) + ' ' + side(o.node) : '') +
            '</td><td>' + esc(o.op) + '</td><td>' + esc(o.out === 'ok' ? o.ret : o.out) + '</td><td>' + fmt(o.s) + '</td><td>' + fmt(o.e) + '</td></tr>';
        }).join('') + '</table>';
      out += '<div class="cex" data-model="' + esc(v.model) + '">' + title + text +
        '<svg width="' + W + '" height="' + H + '">' + axis(x0, x1, L, PW, 14, H - 14) + s + '</svg>' + table + '</div>';
    });
    host.innerHTML = out;
  }

  // ---- messages: a space-time diagram of a window ----
  var E = D.events;
  var MAX_ARROWS = 3000;
  var msgView = { x0: 0, x1: Math.min(END, 200e3) };
  if (blamedOp) {
    var bEnd = blamedOp.e < 0 ? blamedOp.s + 1e6 : blamedOp.e;
    var bpad = Math.max((bEnd - blamedOp.s) * 0.15, 10e3);
    msgView = { x0: Math.max(0, blamedOp.s - bpad), x1: Math.min(END, bEnd + bpad) };
  } else if (D.faults.length) {
    msgView = { x0: Math.max(0, D.faults[0].s - 50e3), x1: Math.min(END, D.faults[0].s + 150e3) };
  }
  var msgDefault = { x0: msgView.x0, x1: msgView.x1 };
  // messages to and from this client are drawn bold (the blamed operation's client)
  var focusNode = blamedOp ? blamedOp.node : -1;
  function lowerBound(arr, v) {
    var lo = 0, hi = arr.length;
    while (lo < hi) { var m = (lo + hi) >> 1; if (arr[m] < v) lo = m + 1; else hi = m; }
    return lo;
  }
  var msgNodes = (function () {
    var set = {};
    Object.keys(D.sides).forEach(function (n) { set[n] = true; });
    ops.forEach(function (o) { if (o.node >= 0) set[o.node] = true; });
    if (E) for (var i = 0; i < E.n.length; i++) { if (E.n[i] >= 0) set[E.n[i]] = true; if (E.p[i] >= 0) set[E.p[i]] = true; }
    var clients = {};
    ops.forEach(function (o) { if (o.node >= 0) clients[o.node] = true; });
    return Object.keys(set).map(Number).sort(function (a, b) {
      var ca = clients[a] ? 1 : 0, cb = clients[b] ? 1 : 0;
      if (ca !== cb) return ca - cb;
      return a - b;
    }).map(function (n) { return { n: n, client: !!clients[n] }; });
  })();
  var typeColor = {}, typeCount = 0;
  function msgType(d) {
    var m = /^[A-Za-z_]+/.exec(d);
    var t = m ? m[0] : '?';
    var inner = /^[A-Za-z_]+\(([A-Za-z_]+)/.exec(d);
    if (inner) t += '(' + inner[1] + ')';
    return t;
  }
  function colorOf(t) {
    if (typeColor[t] === undefined) typeColor[t] = PALETTE[typeCount++ % PALETTE.length];
    return typeColor[t];
  }
  function drawMessages() {
    var host = el('messages-svg');
    if (!E) { host.innerHTML = '<p class="note">No trace was given: run with <code>--trace FILE</code> to see the messages.</p>'; return; }
    var W = widthOf('messages'), L = 110, PW = W - L - 10, LH = 24, top = 26;
    var x0 = msgView.x0, x1 = msgView.x1, x = scale(x0, x1, L, PW);
    var laneY = {};
    msgNodes.forEach(function (m, k) { laneY[m.n] = top + k * LH + LH / 2; });
    var H = top + msgNodes.length * LH + 10;
    var s = '<defs><clipPath id="msgclip"><rect x="' + L + '" y="0" width="' + PW + '" height="' + H + '"/></clipPath>' +
      '<marker id="ah" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" style="fill:context-stroke"/></marker></defs>';
    // faults: partitions as a tint, crashes / pauses on their node's line
    D.faults.forEach(function (b) {
      if (b.e < x0 || b.s > x1) return;
      var bx = x(b.s), bw = Math.max(1, x(b.e) - bx);
      if (b.kind === 'partition' || b.kind === 'clog') {
        s += '<rect class="bg-band" style="fill:#8e7cc3" x="' + bx + '" y="' + top + '" width="' + bw + '" height="' + (msgNodes.length * LH) + '"/>';
      } else {
        b.nodes.forEach(function (n) {
          if (laneY[n] === undefined) return;
          s += '<rect class="fault-band ' + b.kind + '" data-tip="' + bandTip(b) + '" style="opacity:.35" x="' + bx + '" y="' + (laneY[n] - LH / 2 + 2) + '" width="' + bw + '" height="' + (LH - 4) + '"/>';
        });
      }
    });
    msgNodes.forEach(function (m) {
      var y = laneY[m.n], sd = side(m.n);
      s += '<text class="lane-label" x="4" y="' + (y + 4) + '" style="fill:' + (SIDE_COLOR[sd] || '#333') + '">' + (m.client ? 'client ' : 'replica ') + nodeName(m.n) + '</text>';
      s += '<line x1="' + L + '" x2="' + (L + PW) + '" y1="' + y + '" y2="' + y + '" style="stroke:' + (SIDE_COLOR[sd] || '#999') + ';stroke-width:1;opacity:.6"/>';
    });
    // client operations in the window, as thin bars on their client's line
    ops.forEach(function (o) {
      if (o.node < 0 || laneY[o.node] === undefined || opEnd(o) < x0 || o.s > x1) return;
      var xs = x(o.s), w = Math.max(2, x(opEnd(o)) - xs);
      s += '<rect class="msg-op op ' + o.out + (blamedSet[o.i] ? ' blamed' : '') + '" data-i="' + o.i + '" x="' + xs + '" y="' + (laneY[o.node] - 9) + '" width="' + w + '" height="6" style="opacity:.85"/>';
    });
    // events in the window: deliveries up to 2 s after it can have been sent inside it
    var from = lowerBound(E.t, x0), to = lowerBound(E.t, x1 + 2e6), drawn = 0, total = 0, a = '', types = {}, labels = '', hotLabels = 0;
    for (var i = from; i < to; i++) {
      var k = D.kinds[E.k[i]], t = E.t[i], n = E.n[i], p = E.p[i];
      if (k === 'deliver' || k === 'duplicate') {
        var st = E.s[i] < 0 ? t : E.s[i];
        if (t > x1 && st > x1) continue;
        if (st < x0 && t < x0) continue;
        total++;
        if (drawn >= MAX_ARROWS) continue;
        if (laneY[n] === undefined || laneY[p] === undefined) continue;
        drawn++;
        var ty = msgType(E.details[E.d[i]]); types[ty] = (types[ty] || 0) + 1;
        var key = 'm' + i;
        tipTexts[key] = (k === 'duplicate' ? 'DUPLICATE ' : '') + nodeName(p) + ' → ' + nodeName(n) + '\nsent ' + fmt(st) + '\ndelivered ' + fmt(t) + ' (' + ((t - st) / 1e3).toFixed(2) + ' ms)\n' + E.details[E.d[i]];
        var hot = focusNode >= 0 && (n === focusNode || p === focusNode);
        a += '<line class="msg' + (k === 'duplicate' ? ' dup' : '') + (hot ? ' hot' : '') + '" data-tip="' + key + '" x1="' + x(st).toFixed(1) + '" y1="' + laneY[p] + '" x2="' + x(t).toFixed(1) + '" y2="' + laneY[n] + '" marker-end="url(#ah)" style="stroke:' + (k === 'duplicate' ? '#d000d0' : colorOf(ty)) + (hot ? ';stroke-width:2.6' : ';stroke-width:1;opacity:.45') + (k === 'duplicate' ? ';stroke-dasharray:3 2' : '') + '"/>';
        if (hot && hotLabels < 40) { // the blamed client's messages say what they carry
          hotLabels++;
          var txt = E.details[E.d[i]], mx = x(st) + (x(t) - x(st)) * 0.3, my = laneY[p] + (laneY[n] - laneY[p]) * 0.3;
          labels += '<text x="' + (mx + 4).toFixed(1) + '" y="' + (my - 2).toFixed(1) + '" style="font-size:10px;font-weight:600;fill:#222;paint-order:stroke;stroke:#fff;stroke-width:3px;pointer-events:none">' + esc(txt.length > 56 ? txt.slice(0, 56) + '…' : txt) + '</text>';
        }
      } else if (t >= x0 && t <= x1) {
        if (k === 'drop') {
          total++;
          if (drawn >= MAX_ARROWS || laneY[n] === undefined || laneY[p] === undefined) continue;
          drawn++;
          var key2 = 'm' + i, xd = x(t), y0 = laneY[p], y1 = laneY[n], ym = y0 + (y1 - y0) * 0.35;
          tipTexts[key2] = 'DROPPED ' + nodeName(p) + ' → ' + nodeName(n) + ' at ' + fmt(t) + '\ncause: ' + E.details[E.d[i]];
          a += '<g class="drop" data-tip="' + key2 + '"><line data-tip="' + key2 + '" x1="' + xd + '" y1="' + y0 + '" x2="' + (xd + 6) + '" y2="' + ym + '" style="stroke:#d00;stroke-width:1;stroke-dasharray:2 2"/>' +
            '<text data-tip="' + key2 + '" x="' + (xd + 6) + '" y="' + (ym + 4) + '" text-anchor="middle" style="fill:#d00;font-weight:700">×</text></g>';
        } else if (n >= 0 && laneY[n] !== undefined) {
          var key3 = 'm' + i;
          tipTexts[key3] = k + ' ' + nodeName(n) + ' at ' + fmt(t) + (E.details[E.d[i]] ? '\n' + E.details[E.d[i]] : '');
          a += '<g data-tip="' + key3 + '"><line data-tip="' + key3 + '" x1="' + x(t) + '" x2="' + x(t) + '" y1="' + (laneY[n] - 10) + '" y2="' + (laneY[n] + 10) + '" style="stroke:#000;stroke-width:2"/><text data-tip="' + key3 + '" x="' + (x(t) + 3) + '" y="' + (laneY[n] - 4) + '" style="font-weight:700">' + esc(k) + '</text></g>';
        } else if (k === 'fault') {
          var key4 = 'm' + i;
          tipTexts[key4] = 'fault at ' + fmt(t) + '\n' + E.details[E.d[i]];
          a += '<line data-tip="' + key4 + '" x1="' + x(t) + '" x2="' + x(t) + '" y1="' + top + '" y2="' + (H - 10) + '" style="stroke:#6a4fb3;stroke-width:2"/>';
        }
      }
    }
    s += '<g clip-path="url(#msgclip)">' + a + labels + '</g>';
    host.innerHTML = '<svg width="' + W + '" height="' + H + '">' + axis(x0, x1, L, PW, 14, H - 14) + s + '</svg>';
    el('messages-range').textContent = fmt(x0) + ' – ' + fmt(x1) + ': ' + total + ' messages' +
      (total > drawn ? ' (drawing the first ' + drawn + ': zoom in to see all)' : '');
    el('messages-note').textContent = focusNode >= 0 ? 'Bold: messages to and from client ' + nodeName(focusNode) + ', whose operation #' + blamedOp.i + ' (red bar) the checker blames. Click any operation in the timeline to move this window to it.' : 'Click any operation in the timeline to move this window to it.';
    el('messages-legend').innerHTML = Object.keys(types).sort(function (p, q) { return types[q] - types[p]; }).slice(0, 10).map(function (t) {
      return '<span><span class="sw" style="background:' + colorOf(t) + '"></span>' + esc(t) + ' ' + types[t] + '</span>';
    }).join('') + '<span><span class="sw" style="background:#d000d0"></span>duplicate (dashed)</span><span style="color:#d00;font-weight:700">× dropped</span>';
  }

  // ---- availability and latency over time, per side ----
  function drawPlots() {
    var W = widthOf('plots'), L = 60, PW = W - L - 120, H = 150, T = 22, B = 24;
    var bin = Math.max(END / 150, 20e3), nb = Math.ceil(END / bin);
    var groups = {};
    function cells(g) {
      if (!groups[g]) { groups[g] = []; for (var b = 0; b < nb; b++) groups[g].push({ n: 0, ok: 0, lat: [] }); }
      return groups[g];
    }
    ops.forEach(function (o) {
      var c = cells(side(o.node) || 'all');
      // availability: every operation counts in each bin it is outstanding in, so a timed-out
      // operation makes its whole wait unavailable
      var b0 = Math.min(nb - 1, Math.floor(o.s / bin)), b1 = Math.min(nb - 1, Math.floor(opEnd(o) / bin));
      for (var b = b0; b <= b1; b++) { c[b].n++; if (o.out === 'ok') c[b].ok++; }
      if (o.out === 'ok') c[b1].lat.push((o.e - o.s) / 1e3); // latency: by completion time
    });
    var names = Object.keys(groups).sort();
    var x = scale(0, END, L, PW);
    function bands() {
      return D.faults.map(function (b) {
        var col = b.kind === 'partition' ? '#8e7cc3' : b.kind === 'crash' ? '#777' : b.kind === 'pause' ? '#e6b800' : '#45b0b0';
        return '<rect style="fill:' + col + ';opacity:.13" x="' + x(b.s) + '" y="' + T + '" width="' + Math.max(1, x(b.e) - x(b.s)) + '" height="' + (H - T - B) + '"/>';
      }).join('');
    }
    function plot(title, value, ymax, digits, id) {
      var y = function (v) { return H - B - Math.min(v, ymax) / ymax * (H - T - B); };
      var s = '<text x="4" y="13" style="font-weight:700">' + title + '</text>' + bands();
      [0, 0.5, 1].forEach(function (f) {
        s += '<line x1="' + L + '" x2="' + (L + PW) + '" y1="' + y(f * ymax) + '" y2="' + y(f * ymax) + '" style="stroke:#e4e7ea"/><text x="' + (L - 4) + '" y="' + (y(f * ymax) + 4) + '" text-anchor="end" style="font-size:10px;fill:#66707a">' + (f * ymax).toFixed(digits) + '</text>';
      });
      var span = END, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
      [1, 2, 5, 10].some(function (m) { if (span / (step * m) <= 10) { step *= m; return true; } return false; });
      for (var t = 0; t <= END; t += step) s += '<text x="' + x(t) + '" y="' + (H - 8) + '" text-anchor="middle" style="font-size:10px;fill:#66707a">' + fmtAxis(t, span) + '</text>';
      names.forEach(function (g, gi) {
        var pts = [], col = SIDE_COLOR[g] || PALETTE[gi % PALETTE.length];
        function flush() {
          if (pts.length === 1) s += '<circle cx="' + pts[0].split(',')[0] + '" cy="' + pts[0].split(',')[1] + '" r="1.8" style="fill:' + col + '"/>';
          else if (pts.length) s += '<polyline points="' + pts.join(' ') + '" style="fill:none;stroke:' + col + ';stroke-width:1.6"/>';
          pts = [];
        }
        groups[g].forEach(function (c, b) {
          var v = value(c);
          if (v === null) { flush(); return; }
          pts.push(x((b + 0.5) * bin).toFixed(1) + ',' + y(v).toFixed(1));
        });
        flush();
        s += '<rect x="' + (L + PW + 12) + '" y="' + (30 + gi * 16) + '" width="12" height="4" style="fill:' + col + '"/><text x="' + (L + PW + 28) + '" y="' + (35 + gi * 16) + '">' + esc(g) + '</text>';
      });
      return '<svg id="' + id + '" width="' + W + '" height="' + H + '">' + s + '</svg>';
    }
    var allLat = [];
    names.forEach(function (g) { groups[g].forEach(function (c) { allLat = allLat.concat(c.lat); }); });
    allLat.sort(function (p, q) { return p - q; });
    var lmax = allLat.length ? Math.max(1, allLat[Math.floor(allLat.length * 0.99)] * 1.2) : 1;
    el('plots-svg').innerHTML =
      plot('availability: ok-fraction of the operations outstanding (bins of ' + (bin / 1e3).toFixed(0) + ' ms)', function (c) { return c.n ? c.ok / c.n : null; }, 1, 1, 'plot-availability') +
      plot('latency: median of the ok operations completing, ms', function (c) {
        if (!c.lat.length) return null;
        var l = c.lat.slice().sort(function (p, q) { return p - q; });
        return l[Math.floor(l.length / 2)];
      }, lmax, 0, 'plot-latency');
  }

  // ---- page ----
  function main() {
    var app = el('app');
    app.innerHTML =
      '<header id="header">' + header() + '</header>' +
      '<section id="legend-sec">' + legend() + '</section>' +
      '<section id="timeline"><h2>Timeline: every operation, one lane per client, with the faults</h2>' +
      '<div class="controls"><button id="tl-all">whole run</button><button id="tl-fail">zoom to the failure</button><span>wheel: zoom, drag: pan, click an operation: show its messages below ·</span><span id="timeline-range"></span></div>' +
      '<div id="timeline-svg"></div></section>' +
      '<section id="counterexample"><h2>Counterexample</h2><div id="cex-body"></div></section>' +
      '<section id="messages"><h2>Messages around the failure (space-time diagram)</h2>' +
      '<div class="controls"><button id="msg-reset">around the blamed operation</button><button id="msg-in">zoom in</button><button id="msg-out">zoom out</button><span>wheel: zoom, drag: pan ·</span><span id="messages-range"></span></div>' +
      '<p class="note" id="messages-note"></p><div class="legend" id="messages-legend"></div><div class="scroll" id="messages-svg"></div></section>' +
      '<section id="plots"><h2>Availability and latency over time, per side of the partition</h2><div id="plots-svg"></div></section>';
    drawTimeline();
    drawCounterexample();
    drawMessages();
    drawPlots();
    var tlHost = el('timeline-svg');
    hoverable(tlHost); hoverable(el('cex-body')); hoverable(el('messages-svg'));
    zoomable(tlHost, tlView, 130, widthOf('timeline') - 140, drawTimeline, 0, END);
    zoomable(el('messages-svg'), msgView, 110, widthOf('messages') - 120, drawMessages, 0, END);
    el('tl-all').onclick = function () { tlView.x0 = 0; tlView.x1 = END; drawTimeline(); };
    el('tl-fail').onclick = function () {
      if (!blamedOp) return;
      var span = Math.max(opEnd(blamedOp) - blamedOp.s, 100e3) * 8;
      tlView.x0 = Math.max(0, blamedOp.s - span / 2); tlView.x1 = Math.min(END, tlView.x0 + span); drawTimeline();
    };
    var clickAt = null;
    tlHost.addEventListener('mousedown', function (ev) { clickAt = ev.clientX; });
    tlHost.addEventListener('click', function (ev) {
      var i = ev.target.getAttribute && ev.target.getAttribute('data-i');
      if (i === null || i === undefined || Math.abs(ev.clientX - clickAt) > 3) return;
      var o = ops[+i], span = Math.max(msgView.x1 - msgView.x0, (opEnd(o) - o.s) * 1.3);
      msgView.x0 = Math.max(0, (o.s + opEnd(o)) / 2 - span / 2); msgView.x1 = Math.min(END, msgView.x0 + span);
      drawMessages();
      el('messages').scrollIntoView({ behavior: 'smooth' });
    });
    function zoomMsg(k) {
      var c = (msgView.x0 + msgView.x1) / 2, span = Math.max((msgView.x1 - msgView.x0) * k, 20);
      msgView.x0 = Math.max(0, c - span / 2); msgView.x1 = Math.min(END, msgView.x0 + span); drawMessages();
    }
    el('msg-reset').onclick = function () { msgView.x0 = msgDefault.x0; msgView.x1 = msgDefault.x1; drawMessages(); };
    el('msg-in').onclick = function () { zoomMsg(0.5); };
    el('msg-out').onclick = function () { zoomMsg(2); };
    document.body.setAttribute('data-ready', '1');
    // from navigation start to the page drawn, for measuring load time by hand
    document.body.setAttribute('data-load-ms', String(Math.round(performance.now())));
  }
  try {
    main();
  } catch (e) {
    var errs = el('errors');
    errs.textContent += 'error: ' + (e && e.stack ? e.stack : e) + '\n';
    errs.style.display = 'block';
    throw e;
  }
})();
