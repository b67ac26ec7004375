// demo-report/index.html: one self-contained page (no CDN, no network). The data is embedded as JSON
// and drawn by the page's own script as inline SVG: per store a timeline of every operation's latency
// and errors, Reconnect and the raw client side by side, the fault windows shaded, the target's state
// as a band; then a readable trace view of a few interesting operations from the OpenTelemetry spans.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const hr = (t) => t[0] * 1000 + t[1] / 1e6;

/** A finished span as the page's trace view wants it, times in ms relative to `origin`. */
function viewSpan(s, origin) {
  return {
    name: s.name,
    id: s.spanContext().spanId,
    parent: s.parentSpanContext?.spanId ?? null,
    start: hr(s.startTime) - origin,
    dur: hr(s.endTime) - hr(s.startTime),
    status: s.status.code,
    message: s.status.message ?? '',
    attrs: Object.fromEntries(Object.entries(s.attributes).map(([k, v]) => [k, String(v)])),
    events: s.events.map((e) => ({
      name: e.name,
      at: hr(e.time) - origin,
      attrs: Object.fromEntries(Object.entries(e.attributes ?? {}).map(([k, v]) => [k, String(v)])),
    })),
  };
}

/** The operations worth reading span by span: a retried read, an `outcome: unknown` write, a deadline give-up. */
export function pickTraces(stores, spans) {
  const byTrace = new Map();
  for (const s of spans) {
    const id = s.spanContext().traceId;
    if (!byTrace.has(id)) byTrace.set(id, []);
    byTrace.get(id).push(s);
  }
  const attempts = (traceId) =>
    Math.max(
      0,
      ...(byTrace.get(traceId) ?? [])
        .filter((s) => s.name === 'reconnect.execute')
        .map((s) => Number(s.attributes['reconnect.attempts'] ?? 0)),
    );
  const wanted = [
    {
      key: 'retried-read',
      title: 'A read retried until it succeeded',
      test: (r) => r.kind === 'read' && r.ok && attempts(r.traceId) > 1,
    },
    {
      key: 'unknown-write',
      title: 'A write reported outcome: unknown (never replayed)',
      test: (r) => r.kind === 'write' && r.outcome === 'unknown',
    },
    {
      key: 'deadline',
      title: 'An operation that gave up on its deadline',
      test: (r) => r.code === 'ERR_DEADLINE_EXCEEDED',
    },
  ];
  return wanted.map((w) => {
    for (const s of stores) {
      const rec = s.lanes.reconnect.records.find((r) => r.traceId && byTrace.has(r.traceId) && w.test(r));
      if (rec) {
        const list = byTrace.get(rec.traceId);
        const origin = Math.min(...list.map((x) => hr(x.startTime)));
        return {
          key: w.key,
          title: w.title,
          store: s.title,
          op: rec.id,
          traceId: rec.traceId,
          spans: treeOrder(list.map((x) => viewSpan(x, origin))),
        };
      }
    }
    return { key: w.key, title: w.title, none: true };
  });
}

/** Parents before their children, siblings by start time: the order a trace view reads in. */
function treeOrder(spans) {
  const ids = new Set(spans.map((s) => s.id));
  const children = new Map();
  for (const s of spans) {
    const p = s.parent !== null && ids.has(s.parent) ? s.parent : null;
    if (!children.has(p)) children.set(p, []);
    children.get(p).push(s);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => a.start - b.start)) {
      out.push({ ...s, depth });
      walk(s.id, depth + 1);
    }
  };
  walk(null, 0);
  return out;
}

function laneData(lane, endedAt) {
  return lane.records.map((r) => [
    Math.round(r.t0),
    Math.max(0.5, Math.round(((r.t1 ?? endedAt) - r.t0) * 10) / 10),
    r.t1 === undefined ? 2 : r.ok ? 1 : 0,
    r.kind === 'write' ? 1 : 0,
  ]);
}

/** Writes index.html into `outDir`. */
export async function writeReport(outDir, { summary, stores, spans, endedAt, summaryLines, verdict }) {
  const data = {
    generated: new Date().toISOString(),
    ok: summary.ok,
    verdict,
    summaryText: summaryLines.join('\n').trim(),
    endedAt: Math.round(endedAt),
    skipped: summary.stores.filter((s) => s.skipped).map((s) => ({ title: s.title, reason: s.skipped })),
    stores: stores.map((s) => ({
      title: s.title,
      target: s.target,
      rawName: s.rawName,
      deadlineMs: s.deadlineMs,
      faults: s.faultsPlayed.map((f) => ({
        name: f.name,
        short: f.short,
        start: Math.round(f.startedAt ?? f.plannedAt),
        end: Math.round(f.healedAt ?? endedAt),
      })),
      states: s.states.map((x) => ({ at: Math.round(x.at), state: x.state })),
      nodeEvents: s.events
        .filter((e) => e.kind === 'node-dead' || e.kind === 'node-back')
        .map((e) => ({ at: Math.round(e.at), kind: e.kind, node: e.node })),
      lanes: { reconnect: laneData(s.lanes.reconnect, endedAt), raw: laneData(s.lanes.raw, endedAt) },
      figures: s.figures,
    })),
    traces: pickTraces(stores, spans),
    spanCount: spans.length,
  };
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  await writeFile(path.join(outDir, 'index.html'), page(json));
  return {
    traces: data.traces.map((t) => ({
      key: t.key,
      found: !t.none,
      ...(t.none ? {} : { store: t.store, op: t.op, traceId: t.traceId }),
    })),
  };
}

function page(json) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reconnect live fault demo — report</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --ok: #2563eb; --write: #059669; --err: #dc2626; --wait: #9333ea; --fault: rgba(220, 38, 38, 0.10); }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 24px auto; max-width: 1280px; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px; } h3 { font-size: 14px; margin: 0 0 4px; }
  .verdict { padding: 8px 12px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
  .verdict.ok { background: #ecfdf3; color: #05603a; } .verdict.bad { background: #fef3f2; color: #b42318; }
  .skip { background: #fffaeb; color: #93370d; padding: 6px 12px; border-radius: 6px; margin: 6px 0; }
  .pair { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  .panel { border: 1px solid #e4e7ec; border-radius: 8px; padding: 10px; }
  .figs { color: var(--muted); font-size: 12px; margin-top: 4px; }
  pre { background: #f8f9fb; border: 1px solid #e4e7ec; border-radius: 6px; padding: 10px; overflow-x: auto; font-size: 12px; }
  .legend span { margin-right: 14px; font-size: 12px; color: var(--muted); } .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 5px; margin-right: 4px; vertical-align: -1px; }
  svg text { font: 11px system-ui, sans-serif; fill: #475467; }
  .trace { margin: 10px 0 18px; } .trace table { border-collapse: collapse; width: 100%; font-size: 12px; }
  .trace td { padding: 2px 6px; vertical-align: top; border-bottom: 1px solid #f2f4f7; } .trace .bar { position: relative; height: 14px; background: #f2f4f7; border-radius: 3px; min-width: 300px; }
  .trace .bar b { position: absolute; top: 0; height: 14px; border-radius: 3px; background: #84adff; } .trace .bar b.err { background: #fda29b; }
  .trace .bar u { position: absolute; top: -2px; width: 2px; height: 18px; background: #1d2330; }
  .attrs { color: var(--muted); font-family: ui-monospace, monospace; font-size: 11px; }
  #errors { color: var(--err); }
</style>
</head>
<body>
<h1>Reconnect live fault demo</h1>
<div id="meta" class="figs"></div>
<div id="verdict"></div>
<div id="skipped"></div>
<div class="legend"><span><i style="background:var(--ok)"></i>read ok</span><span><i style="background:var(--write)"></i>write ok</span><span><i style="background:var(--err)"></i>failed</span><span><i style="background:var(--wait)"></i>still waiting at the end</span><span><i style="background:rgba(220,38,38,.25)"></i>fault window</span></div>
<div id="stores"></div>
<h2>Summary</h2>
<pre id="summary"></pre>
<h2>Traces (OpenTelemetry spans, from spans.json)</h2>
<div id="traces"></div>
<div id="errors"></div>
<script type="application/json" id="data">${json}</script>
<script>
(function () {
  'use strict';
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); document.getElementById('errors').textContent = 'page error: ' + errors.join('; '); });
  var data = JSON.parse(document.getElementById('data').textContent);
  var NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) { var n = document.createElementNS(NS, name); for (var k in attrs) n.setAttribute(k, attrs[k]); if (parent) parent.appendChild(n); return n; }
  function h(tag, text, cls) { var n = document.createElement(tag); if (text !== undefined) n.textContent = text; if (cls) n.className = cls; return n; }
  var stateColour = { connected: '#12b76a', connecting: '#fdb022', reconnecting: '#f79009', failed: '#d92d20', stopped: '#98a2b3', idle: '#d0d5dd' };

  document.getElementById('meta').textContent = 'generated ' + data.generated + ' · workload ' + (data.endedAt / 1000).toFixed(1) + ' s · ' + data.spanCount + ' spans';
  var v = h('div', data.verdict, 'verdict ' + (data.ok ? 'ok' : 'bad')); document.getElementById('verdict').appendChild(v);
  data.skipped.forEach(function (s) { document.getElementById('skipped').appendChild(h('div', s.title + ' not shown: ' + s.reason, 'skip')); });
  document.getElementById('summary').textContent = data.summaryText;

  var drawn = 0, marks = 0;
  function chart(parent, store, points, title, withStates) {
    var W = 600, H = 240, L = 46, R = 8, T = 18, B = 46;
    var svg = el('svg', { viewBox: '0 0 ' + W + ' ' + H, width: '100%', role: 'img', 'aria-label': title, 'data-chart': store.title + ' ' + title }, parent);
    var tMax = Math.max(1, data.endedAt);
    var x = function (t) { return L + (t / tMax) * (W - L - R); };
    var yMin = Math.log10(0.5), yMax = Math.log10(Math.max(2000, store.deadlineMs * 1.6));
    var y = function (ms) { var v = Math.log10(Math.max(0.5, ms)); return T + (1 - (Math.min(v, yMax) - yMin) / (yMax - yMin)) * (H - T - B); };
    el('text', { x: L, y: 12 }, svg).textContent = title;
    store.faults.forEach(function (f, i) {
      el('rect', { x: x(f.start), y: T, width: Math.max(1, x(f.end) - x(f.start)), height: H - T - B, fill: 'rgba(220,38,38,0.10)', 'class': 'fault' }, svg);
      el('text', { x: x(f.start) + 2, y: T + 10 + i * 12, 'font-size': 10 }, svg).textContent = (f.short || f.name.split(/[,(]/)[0]);
    });
    [1, 10, 100, 1000, 10000].forEach(function (ms) {
      if (Math.log10(ms) > yMax) return;
      el('line', { x1: L, x2: W - R, y1: y(ms), y2: y(ms), stroke: '#eaecf0' }, svg);
      el('text', { x: L - 4, y: y(ms) + 4, 'text-anchor': 'end' }, svg).textContent = ms >= 1000 ? ms / 1000 + ' s' : ms + ' ms';
    });
    el('line', { x1: L, x2: W - R, y1: y(store.deadlineMs), y2: y(store.deadlineMs), stroke: '#344054', 'stroke-dasharray': '4 3' }, svg);
    el('text', { x: W - R, y: y(store.deadlineMs) + 12, 'text-anchor': 'end' }, svg).textContent = 'Reconnect deadline ' + store.deadlineMs / 1000 + ' s';
    for (var s = 0; s <= tMax / 1000; s += 5) el('text', { x: x(s * 1000), y: H - B + 14, 'text-anchor': 'middle' }, svg).textContent = s + ' s';
    points.forEach(function (p) {
      var cx = x(p[0]), cy = y(p[1]);
      if (p[2] === 1) el('circle', { cx: cx, cy: cy, r: 1.6, fill: p[3] ? '#059669' : '#2563eb', 'class': 'op' }, svg);
      else if (p[2] === 0) el('path', { d: 'M' + (cx - 2.5) + ' ' + (cy - 2.5) + 'l5 5m0 -5l-5 5', stroke: '#dc2626', 'stroke-width': 1.3, 'class': 'op err' }, svg);
      else el('circle', { cx: cx, cy: cy, r: 2.4, fill: 'none', stroke: '#9333ea', 'class': 'op wait' }, svg);
      marks++;
    });
    var bandY = H - B + 22;
    if (withStates) {
      store.states.forEach(function (st, i) {
        var end = i + 1 < store.states.length ? store.states[i + 1].at : data.endedAt;
        el('rect', { x: x(st.at), y: bandY, width: Math.max(1, x(end) - x(st.at)), height: 10, fill: stateColour[st.state] || '#98a2b3', 'class': 'state' }, svg)
          .appendChild(el('title', {})).textContent = st.state + ' from ' + (st.at / 1000).toFixed(2) + ' s';
      });
      store.nodeEvents.forEach(function (e) {
        el('path', { d: 'M' + x(e.at) + ' ' + (bandY - 4) + 'l-3 -5h6z', fill: e.kind === 'node-dead' ? '#d92d20' : '#12b76a' }, svg);
      });
      el('text', { x: L - 4, y: bandY + 9, 'text-anchor': 'end' }, svg).textContent = 'state';
    } else {
      el('rect', { x: L, y: bandY, width: W - L - R, height: 10, fill: '#f2f4f7' }, svg);
      el('text', { x: L + 4, y: bandY + 9 }, svg).textContent = 'the raw client reports no state';
    }
    drawn++;
  }

  function figs(f) {
    return 'reads ' + f.reads.ok + ' ok / ' + f.reads.failed + ' failed · writes ' + f.writes.ok + ' ok / ' + f.writes.failed + ' failed (' + f.writes.unknown + ' unknown) · duplicated ' + f.duplicated + ' · lost acknowledged ' + f.lostAcknowledged + ' · longest ' + f.longestMs + ' ms';
  }

  data.stores.forEach(function (store) {
    var section = h('section'); section.appendChild(h('h2', store.title + ' — ' + store.faults.map(function (f) { return f.name; }).join('; ')));
    var pair = h('div', undefined, 'pair');
    [['reconnect', 'Reconnect (target ' + store.target + ')', true], ['raw', store.rawName, false]].forEach(function (side) {
      var panel = h('div', undefined, 'panel');
      panel.appendChild(h('h3', side[1]));
      chart(panel, store, store.lanes[side[0]], 'latency per operation (log scale) over time', side[2]);
      panel.appendChild(h('div', figs(store.figures[side[0]]), 'figs'));
      pair.appendChild(panel);
    });
    section.appendChild(pair);
    document.getElementById('stores').appendChild(section);
  });

  data.traces.forEach(function (t) {
    var box = h('div', undefined, 'trace'); box.appendChild(h('h3', t.title + (t.none ? '' : ' — ' + t.store + ', ' + t.op + ', trace ' + t.traceId)));
    if (t.none) { box.appendChild(h('div', 'none happened in this run', 'figs')); document.getElementById('traces').appendChild(box); return; }
    var total = Math.max.apply(null, t.spans.map(function (s) { return s.start + s.dur; })) || 1;
    var table = h('table');
    t.spans.forEach(function (s) {
      var tr = h('tr');
      var name = h('td'); name.style.paddingLeft = 6 + s.depth * 16 + 'px'; name.textContent = s.name + (s.status === 2 ? ' ✗' : '');
      var dur = h('td', s.dur.toFixed(1) + ' ms');
      var barTd = h('td'); var bar = h('div', undefined, 'bar'); var b = h('b', undefined, s.status === 2 ? 'err' : '');
      b.style.left = (s.start / total) * 100 + '%'; b.style.width = Math.max(0.5, (s.dur / total) * 100) + '%'; bar.appendChild(b);
      s.events.forEach(function (e) { var u = h('u'); u.style.left = (e.at / total) * 100 + '%'; u.title = e.name + ' ' + JSON.stringify(e.attrs); bar.appendChild(u); });
      barTd.appendChild(bar);
      var keys = ['reconnect.attempts', 'reconnect.attempt', 'reconnect.outcome', 'error.type', 'reconnect.error.kind', 'reconnect.node.id', 'demo.op_id'];
      var at = keys.filter(function (k) { return s.attrs[k] !== undefined; }).map(function (k) { return k + '=' + s.attrs[k]; });
      s.events.forEach(function (e) { at.push('• event ' + e.name + ' ' + Object.keys(e.attrs).map(function (k) { return k + '=' + e.attrs[k]; }).join(' ')); });
      var attrs = h('td', at.join('\\n'), 'attrs'); attrs.style.whiteSpace = 'pre-wrap';
      tr.appendChild(name); tr.appendChild(dur); tr.appendChild(barTd); tr.appendChild(attrs); table.appendChild(tr);
    });
    box.appendChild(table);
    document.getElementById('traces').appendChild(box);
  });

  document.body.setAttribute('data-charts', String(drawn));
  document.body.setAttribute('data-marks', String(marks));
  document.body.setAttribute('data-traces', String(data.traces.filter(function (t) { return !t.none; }).length));
  document.body.setAttribute('data-errors', String(errors.length));
})();
</script>
</body>
</html>
`;
}
