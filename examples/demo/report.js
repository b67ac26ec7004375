// demo-report/index.html: one self-contained page (no CDN, no network). The data is embedded as JSON
// and drawn by the page's own script as inline SVG: per store a timeline of every operation's latency
// and errors, Reconnect and the raw client side by side, the fault windows shaded, the target's state
// as a band; then a readable trace view of a few interesting operations from the OpenTelemetry spans.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { summaryRows, whyTheyDiffer } from './summary.js';

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

/**
 * An operation's span: Reconnect's CLIENT span (the database conventions' one span per logical operation,
 * retries and waits included). The Elasticsearch client can make CLIENT spans of its own (off in the driver unless
 * asked for), so the scope decides.
 */
export function isOperationSpan(s) {
  return s.kind === 2 && s.instrumentationScope?.name === '@reconnect/core';
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
        .filter(isOperationSpan)
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
export async function writeReport(outDir, { summary, stores, spans, endedAt, verdict }) {
  const summaryOf = new Map(summary.stores.map((s) => [s.title, s]));
  const data = {
    generated: new Date().toISOString(),
    ok: summary.ok,
    verdict,
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
      policy: s.policy,
      rows: summaryRows(summaryOf.get(s.title)),
      why: whyTheyDiffer(summaryOf.get(s.title)),
    })),
    traces: pickTraces(stores, spans),
    spanCount: spans.length,
  };
  await writeFile(path.join(outDir, 'index.html'), reportPage(data));
  return {
    traces: data.traces.map((t) => ({
      key: t.key,
      found: !t.none,
      ...(t.none ? {} : { store: t.store, op: t.op, traceId: t.traceId }),
    })),
  };
}

/**
 * The report page for `data` (what {@link writeReport} gathers): self-contained HTML whose own script draws it.
 * Exported so the layout can be rendered and checked from fixture data, without a demo run.
 */
export function reportPage(data) {
  const json = JSON.stringify(data).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Reconnect live fault demo — report</title>
<style>
  :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 24px auto; max-width: 1280px; padding: 0 16px; overflow-wrap: anywhere; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 6px; } h3 { font-size: 14px; margin: 0 0 4px; }
  .verdict { padding: 8px 12px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
  .verdict.ok { background: #ecfdf3; color: #05603a; } .verdict.bad { background: #fef3f2; color: #b42318; }
  .skip { background: #fffaeb; color: #93370d; padding: 6px 12px; border-radius: 6px; margin: 6px 0; }
  .pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 460px), 1fr)); gap: 16px; }
  .panel { border: 1px solid var(--line); border-radius: 8px; padding: 10px; min-width: 0; }
  .panel svg { display: block; width: 100%; height: auto; }
  .caption { color: var(--muted); font-size: 12px; margin: 0 0 2px; }
  .figs { color: var(--muted); font-size: 12px; margin-top: 4px; }
  .why { background: #f0f9ff; border-left: 3px solid #2e90fa; padding: 6px 10px; margin: 6px 0 12px; }
  .policy { font-size: 12px; color: #344054; margin: 0 0 12px; }
  .policy ul { margin: 2px 0 0; padding-left: 18px; }
  .policy .overrides { font-family: ui-monospace, monospace; font-size: 11px; color: var(--muted); }
  table.summary { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 12px; table-layout: fixed; }
  table.summary th, table.summary td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #f2f4f7; vertical-align: top; }
  table.summary th:first-child, table.summary td:first-child { width: 46%; }
  .legend { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0 4px; padding: 0; list-style: none; }
  .legend li { display: flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); }
  .legend svg { flex: none; }
  svg text { font: 11px system-ui, sans-serif; fill: #475467; }
  .trace { margin: 10px 0 18px; }
  .span { padding: 4px 0; border-bottom: 1px solid #f2f4f7; font-size: 12px; }
  .span .head { display: flex; justify-content: space-between; gap: 8px; }
  .span .bar { position: relative; height: 14px; background: #f2f4f7; border-radius: 3px; margin: 2px 0; }
  .span .bar b { position: absolute; top: 0; height: 14px; border-radius: 3px; background: #84adff; } .span .bar b.err { background: #fda29b; }
  .span .bar u { position: absolute; top: -2px; width: 2px; height: 18px; background: #1d2330; }
  .attrs { color: var(--muted); font-family: ui-monospace, monospace; font-size: 11px; white-space: pre-wrap; margin: 0; }
  #errors { color: #dc2626; }
</style>
</head>
<body>
<h1>Reconnect live fault demo</h1>
<div id="meta" class="figs"></div>
<div id="verdict"></div>
<div id="skipped"></div>
<h2>How to read the charts</h2>
<p class="figs">Per store, one chart for Reconnect and one for the raw client at its defaults: every operation is a mark at the time it started and its latency (log scale); below, the target's state over time.</p>
<ul class="legend" id="legend"></ul>
<div id="stores"></div>
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

  // Every kind of mark a chart draws, how it is drawn, and what the legend says of it. A chart draws marks only
  // through mark(), which tags them data-mark; the legend is made from the kinds that were drawn.
  var MARKS = {
    'op-read': { text: 'read that succeeded', draw: function (g, x, y) { return el('circle', { cx: x, cy: y, r: 1.6, fill: '#2563eb' }, g); } },
    'op-write': { text: 'write that succeeded', draw: function (g, x, y) { return el('circle', { cx: x, cy: y, r: 1.6, fill: '#059669' }, g); } },
    'op-err': { text: 'operation that failed', draw: function (g, x, y) { return el('path', { d: 'M' + (x - 2.5) + ' ' + (y - 2.5) + 'l5 5m0 -5l-5 5', stroke: '#dc2626', 'stroke-width': 1.3 }, g); } },
    'op-wait': { text: 'still waiting when the run ended', draw: function (g, x, y) { return el('circle', { cx: x, cy: y, r: 2.4, fill: 'none', stroke: '#9333ea' }, g); } },
    'fault': { text: 'fault window (named above the chart)', draw: function (g, x, y, w, hgt) { return el('rect', { x: x, y: y, width: w, height: hgt, fill: 'rgba(220,38,38,0.10)' }, g); } },
    'deadline': { text: "the target's deadline: no operation through Reconnect lasts longer", draw: function (g, x, y, w) { return el('line', { x1: x, x2: x + w, y1: y, y2: y, stroke: '#344054', 'stroke-dasharray': '4 3' }, g); } },
    'node-dead': { text: 'a node declared dead (multi-node targets)', draw: function (g, x, y) { return el('path', { d: 'M' + x + ' ' + (y + 6) + 'l-3.5 -6h7z', fill: '#d92d20' }, g); } },
    'node-back': { text: 'a node back in the pool', draw: function (g, x, y) { return el('path', { d: 'M' + x + ' ' + y + 'l-3.5 6h7z', fill: '#12b76a' }, g); } },
    'no-state': { text: 'state band: the raw client reports no state', draw: function (g, x, y, w, hgt) { return el('rect', { x: x, y: y, width: w, height: hgt, fill: '#f2f4f7', stroke: '#d0d5dd' }, g); } },
  };
  Object.keys(stateColour).forEach(function (state) {
    MARKS['state-' + state] = { text: 'state band: ' + state, draw: function (g, x, y, w, hgt) { return el('rect', { x: x, y: y, width: w, height: hgt, fill: stateColour[state] }, g); } };
  });
  var used = {};
  function mark(kind, cls, g, x, y, w, hgt) {
    var n = MARKS[kind].draw(g, x, y, w, hgt);
    n.setAttribute('data-mark', kind);
    if (cls) n.setAttribute('class', cls);
    used[kind] = true;
    return n;
  }
  function legend() {
    var list = document.getElementById('legend');
    Object.keys(MARKS).forEach(function (kind) {
      if (!used[kind]) return;
      var li = h('li'); li.setAttribute('data-legend', kind);
      var svg = el('svg', { width: 26, height: 14, viewBox: '0 0 26 14', 'aria-hidden': 'true' }, li);
      var area = kind === 'fault' || kind === 'no-state' || kind.indexOf('state-') === 0;
      if (area) MARKS[kind].draw(svg, 1, 2, 24, 10);
      else if (kind === 'deadline') MARKS[kind].draw(svg, 1, 7, 24);
      // Points and triangles drawn twice their chart size, so they can be told apart.
      else MARKS[kind].draw(el('g', { transform: 'translate(13 ' + (kind.indexOf('node-') === 0 ? 1 : 7) + ') scale(2)' }, svg), 0, 0);
      li.appendChild(h('span', MARKS[kind].text));
      list.appendChild(li);
    });
  }

  document.getElementById('meta').textContent = 'generated ' + data.generated + ' · workload ' + (data.endedAt / 1000).toFixed(1) + ' s · ' + data.spanCount + ' spans';
  document.getElementById('verdict').appendChild(h('div', data.verdict, 'verdict ' + (data.ok ? 'ok' : 'bad')));
  data.skipped.forEach(function (s) { document.getElementById('skipped').appendChild(h('div', s.title + ' not shown: ' + s.reason, 'skip')); });

  var drawn = 0, marks = 0;
  function chart(parent, store, points, withStates) {
    // As many user units as the panel has pixels (between 320 and 600), so the text stays readable on a phone.
    var W = Math.round(Math.min(600, Math.max(320, parent.clientWidth))), L = 46, R = 8;
    var svg = el('svg', { viewBox: '0 0 ' + W + ' 300', role: 'img', 'data-chart': store.title }, parent);
    var tMax = Math.max(1, data.endedAt);
    var x = function (t) { return L + (t / tMax) * (W - L - R); };
    // Fault names in a lane above the plot, each on the first row where it overlaps no other (measured, not guessed).
    var rows = [];
    var labels = store.faults.map(function (f) {
      var t = el('text', { 'font-size': 10 }, svg);
      t.textContent = f.short || f.name.split(/[,(]/)[0];
      var w = t.getComputedTextLength();
      var x0 = Math.min(Math.max(L, x(f.start) + 2), W - R - w);
      var row = 0;
      while (rows[row] && rows[row].some(function (r) { return x0 < r[1] + 6 && r[0] < x0 + w + 6; })) row++;
      (rows[row] = rows[row] || []).push([x0, x0 + w]);
      return { t: t, x: x0, row: row };
    });
    var T = 6 + rows.length * 13 + 4, plotH = 170, bottom = T + plotH;
    labels.forEach(function (l) { l.t.setAttribute('x', l.x); l.t.setAttribute('y', 6 + 10 + l.row * 13); });
    var yMin = Math.log10(0.5), yMax = Math.log10(Math.max(2000, store.deadlineMs * 1.6));
    var y = function (ms) { var v = Math.log10(Math.max(0.5, ms)); return T + (1 - (Math.min(v, yMax) - yMin) / (yMax - yMin)) * plotH; };
    store.faults.forEach(function (f) { mark('fault', 'fault', svg, x(f.start), T, Math.max(1, x(f.end) - x(f.start)), plotH); });
    [1, 10, 100, 1000, 10000].forEach(function (ms) {
      if (Math.log10(ms) > yMax) return;
      el('line', { x1: L, x2: W - R, y1: y(ms), y2: y(ms), stroke: '#eaecf0', 'class': 'axis' }, svg);
      el('text', { x: L - 4, y: y(ms) + 4, 'text-anchor': 'end' }, svg).textContent = ms >= 1000 ? ms / 1000 + ' s' : ms + ' ms';
    });
    mark('deadline', 'deadline', svg, L, y(store.deadlineMs), W - R - L);
    el('text', { x: W - R - 2, y: y(store.deadlineMs) + 12, 'text-anchor': 'end' }, svg).textContent = 'deadline ' + store.deadlineMs / 1000 + ' s';
    // Seconds between time labels: the first step that keeps them 44 units apart.
    var step = [1, 2, 5, 10, 15, 30, 60, 120].filter(function (st) { return (st * 1000 / tMax) * (W - L - R) >= 44; })[0] || 300;
    for (var s = 0; s <= tMax / 1000; s += step) {
      var tick = el('text', { x: x(s * 1000), y: bottom + 12, 'text-anchor': 'middle' }, svg);
      tick.textContent = s + ' s';
      // The last one may sit on the right edge: kept inside the chart.
      if (x(s * 1000) + tick.getComputedTextLength() / 2 > W - 1) { tick.setAttribute('x', W - 1); tick.setAttribute('text-anchor', 'end'); }
    }
    points.forEach(function (p) {
      var cx = x(p[0]), cy = y(p[1]);
      if (p[2] === 1) mark(p[3] ? 'op-write' : 'op-read', 'op', svg, cx, cy);
      else if (p[2] === 0) mark('op-err', 'op err', svg, cx, cy);
      else mark('op-wait', 'op wait', svg, cx, cy);
      marks++;
    });
    var bandY = bottom + 18, H = bandY + 14;
    el('text', { x: L - 4, y: bandY + 9, 'text-anchor': 'end' }, svg).textContent = 'state';
    if (withStates) {
      store.states.forEach(function (st, i) {
        var end = i + 1 < store.states.length ? store.states[i + 1].at : data.endedAt;
        var kind = MARKS['state-' + st.state] ? 'state-' + st.state : 'state-stopped';
        mark(kind, 'state', svg, x(st.at), bandY, Math.max(1, x(end) - x(st.at)), 10)
          .appendChild(el('title', {})).textContent = st.state + ' from ' + (st.at / 1000).toFixed(2) + ' s';
      });
      if (store.nodeEvents.length > 0) {
        var nodeY = bandY + 16; H = nodeY + 10;
        el('text', { x: L - 4, y: nodeY + 7, 'text-anchor': 'end' }, svg).textContent = 'nodes';
        store.nodeEvents.forEach(function (e) {
          mark(e.kind === 'node-dead' ? 'node-dead' : 'node-back', 'node', svg, x(e.at), nodeY)
            .appendChild(el('title', {})).textContent = e.node + (e.kind === 'node-dead' ? ' declared dead' : ' back') + ' at ' + (e.at / 1000).toFixed(2) + ' s';
        });
      }
    } else {
      mark('no-state', 'no-state', svg, L, bandY, W - L - R, 10);
    }
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    drawn++;
  }

  function figs(f) {
    return 'reads ' + f.reads.ok + ' ok / ' + f.reads.failed + ' failed · writes ' + f.writes.ok + ' ok / ' + f.writes.failed + ' failed (' + f.writes.unknown + ' unknown) · duplicated ' + f.duplicated + ' · lost acknowledged ' + f.lostAcknowledged + ' · longest ' + f.longestMs + ' ms';
  }

  function policyBox(store) {
    var box = h('div', undefined, 'policy'); box.setAttribute('data-policy', store.target);
    box.appendChild(h('div', 'Policy of target ' + store.target + ': ' + store.policy.from));
    var ul = h('ul'); store.policy.behaviour.forEach(function (line) { ul.appendChild(h('li', line)); }); box.appendChild(ul);
    if (store.policy.overrides.length > 0) box.appendChild(h('div', 'overrides: ' + store.policy.overrides.join(' · '), 'overrides'));
    return box;
  }

  function summaryTable(store) {
    var table = h('table', undefined, 'summary');
    var head = h('tr'); [' ', 'Reconnect (' + store.target + ')', store.rawName].forEach(function (t) { head.appendChild(h('th', t)); });
    table.appendChild(head);
    store.rows.forEach(function (r) { var tr = h('tr'); [r.label, r.reconnect, r.raw].forEach(function (t) { tr.appendChild(h('td', t)); }); table.appendChild(tr); });
    return table;
  }

  data.stores.forEach(function (store) {
    var section = h('section'); section.setAttribute('data-store', store.title);
    document.getElementById('stores').appendChild(section);
    section.appendChild(h('h2', store.title + ' — ' + store.faults.map(function (f) { return f.name; }).join('; ')));
    var why = h('p', store.why, 'why'); why.setAttribute('data-why', store.title); section.appendChild(why);
    section.appendChild(policyBox(store));
    var pair = h('div', undefined, 'pair'); section.appendChild(pair);
    var sides = [['reconnect', 'Reconnect (target ' + store.target + ')', true], ['raw', store.rawName, false]];
    // Both panels in the grid before either chart is drawn: a chart takes its panel's width as it is laid out.
    var panels = sides.map(function (side) {
      var panel = h('div', undefined, 'panel'); pair.appendChild(panel);
      panel.appendChild(h('h3', side[1]));
      panel.appendChild(h('p', 'latency per operation (log scale) over time', 'caption'));
      return panel;
    });
    sides.forEach(function (side, i) {
      chart(panels[i], store, store.lanes[side[0]], side[2]);
      panels[i].appendChild(h('div', figs(store.figures[side[0]]), 'figs'));
    });
    section.appendChild(summaryTable(store));
  });
  legend();

  data.traces.forEach(function (t) {
    var box = h('div', undefined, 'trace'); box.appendChild(h('h3', t.title + (t.none ? '' : ' — ' + t.store + ', ' + t.op + ', trace ' + t.traceId)));
    document.getElementById('traces').appendChild(box);
    if (t.none) { box.appendChild(h('div', 'none happened in this run', 'figs')); return; }
    var total = Math.max.apply(null, t.spans.map(function (s) { return s.start + s.dur; })) || 1;
    t.spans.forEach(function (s) {
      var row = h('div', undefined, 'span'); row.style.paddingLeft = s.depth * 14 + 'px';
      var head = h('div', undefined, 'head'); head.appendChild(h('span', s.name + (s.status === 2 ? ' ✗' : ''))); head.appendChild(h('span', s.dur.toFixed(1) + ' ms'));
      row.appendChild(head);
      var bar = h('div', undefined, 'bar'); var b = h('b', undefined, s.status === 2 ? 'err' : '');
      // Kept inside the bar: a span or an event at the very end must not stick out of it.
      var left = Math.min(99.5, (s.start / total) * 100);
      b.style.left = left + '%'; b.style.width = Math.min(100 - left, Math.max(0.5, (s.dur / total) * 100)) + '%'; bar.appendChild(b);
      s.events.forEach(function (e) { var u = h('u'); u.style.left = 'calc((100% - 2px) * ' + Math.min(1, e.at / total) + ')'; u.title = e.name + ' ' + JSON.stringify(e.attrs); bar.appendChild(u); });
      row.appendChild(bar);
      var keys = ['reconnect.attempts', 'reconnect.attempt', 'reconnect.outcome', 'error.type', 'reconnect.error.kind', 'reconnect.node.id', 'demo.op_id'];
      var at = keys.filter(function (k) { return s.attrs[k] !== undefined; }).map(function (k) { return k + '=' + s.attrs[k]; });
      s.events.forEach(function (e) { at.push('• event ' + e.name + ' ' + Object.keys(e.attrs).filter(function (k) { return k !== 'exception.stacktrace'; }).map(function (k) { return k + '=' + e.attrs[k]; }).join(' ')); });
      if (at.length > 0) row.appendChild(h('pre', at.join('\\n'), 'attrs'));
      box.appendChild(row);
    });
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
