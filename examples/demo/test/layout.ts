// The demo report's layout as a real browser lays it out: headless Chromium renders the page at a given width with
// a measuring script added after the report's own, and the test reads what it measured from the dumped DOM.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's `chromium`, which `.ci/run` installs when it is missing. */
export function chromiumBinary(): string {
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  throw new Error(
    'headless Chromium is needed to render the report: apt-get install -y chromium (.ci/run does this)',
  );
}

/** What the measuring script found; every list empty is a clean layout. */
export interface Layout {
  /** The viewport's width and the page's scroll width (more is a horizontal scroll bar). */
  width: number;
  scrollWidth: number;
  /** Boxes whose content is wider than they are (they scroll or spill sideways). */
  overflowing: string[];
  /** Boxes that reach past the viewport's left or right edge. */
  outside: string[];
  /** Pairs of chart labels drawn over each other, or over a node marker or the state band. */
  overlaps: string[];
  /** Chart labels cut off by their chart's edge. */
  clipped: string[];
  /** Pairs of legend entries over each other. */
  legendOverlaps: string[];
  /** Chart elements that are neither text, axis nor a mark (so nothing explains them). */
  unmarked: string[];
  /** Mark kinds drawn, and those without a visible legend entry. */
  marks: string[];
  withoutLegend: string[];
  /** Per store section: its title, its "why the columns differ" sentence and its policy text. */
  stores: { title: string; why: string; policy: string }[];
  charts: number;
}

// Runs in the page after the report's script. Plain ES5 so it runs as the report's does.
const measure = `
(function () {
  var out = { width: window.innerWidth, scrollWidth: document.documentElement.scrollWidth, overflowing: [], outside: [],
    overlaps: [], clipped: [], legendOverlaps: [], unmarked: [], marks: [], withoutLegend: [], stores: [], charts: 0 };
  function name(e) { return e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + (e.textContent ? ' "' + e.textContent.slice(0, 40) + '"' : ''); }
  function hit(a, b) { return Math.min(a.right, b.right) - Math.max(a.left, b.left) > 1 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 1; }
  [].forEach.call(document.querySelectorAll('body *'), function (e) {
    if (e.closest('svg') || e.tagName === 'SCRIPT') return;
    var cs = getComputedStyle(e);
    if (cs.display === 'none' || cs.display === 'inline') return;
    if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) out.overflowing.push(name(e) + ' ' + e.scrollWidth + ' > ' + e.clientWidth);
    var r = e.getBoundingClientRect();
    if (r.width > 0 && (r.right > window.innerWidth + 0.5 || r.left < -0.5)) out.outside.push(name(e) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
  });
  [].forEach.call(document.querySelectorAll('svg[data-chart]'), function (svg) {
    out.charts++;
    var box = svg.getBoundingClientRect();
    var texts = [].slice.call(svg.querySelectorAll('text'));
    var blockers = [].slice.call(svg.querySelectorAll('[data-mark^="node-"], [data-mark^="state-"], [data-mark="no-state"]'));
    texts.forEach(function (t, i) {
      var a = t.getBoundingClientRect();
      if (a.left < box.left - 0.5 || a.right > box.right + 0.5 || a.top < box.top - 0.5 || a.bottom > box.bottom + 0.5) out.clipped.push(svg.getAttribute('data-chart') + ': "' + t.textContent + '"');
      texts.slice(i + 1).forEach(function (u) { if (hit(a, u.getBoundingClientRect())) out.overlaps.push(svg.getAttribute('data-chart') + ': "' + t.textContent + '" / "' + u.textContent + '"'); });
      blockers.forEach(function (m) { if (hit(a, m.getBoundingClientRect())) out.overlaps.push(svg.getAttribute('data-chart') + ': "' + t.textContent + '" over a ' + m.getAttribute('data-mark') + ' mark'); });
    });
    [].forEach.call(svg.querySelectorAll('*'), function (e) {
      var tag = e.tagName.toLowerCase();
      if (tag === 'text' || tag === 'title' || e.getAttribute('class') === 'axis') return;
      var kind = e.getAttribute('data-mark');
      if (!kind) { out.unmarked.push(svg.getAttribute('data-chart') + ': ' + tag); return; }
      if (out.marks.indexOf(kind) < 0) out.marks.push(kind);
    });
  });
  out.marks.forEach(function (kind) {
    var li = document.querySelector('[data-legend="' + kind + '"]');
    var r = li && li.getBoundingClientRect();
    if (!li || r.width < 1 || r.height < 1 || !li.textContent.trim() || !li.querySelector('svg [data-mark], svg *')) out.withoutLegend.push(kind);
  });
  var items = [].slice.call(document.querySelectorAll('[data-legend]'));
  items.forEach(function (a, i) { items.slice(i + 1).forEach(function (b) { if (hit(a.getBoundingClientRect(), b.getBoundingClientRect())) out.legendOverlaps.push(a.textContent + ' / ' + b.textContent); }); });
  [].forEach.call(document.querySelectorAll('section[data-store]'), function (s) {
    var why = s.querySelectorAll('[data-why]'), policy = s.querySelectorAll('[data-policy]');
    out.stores.push({ title: s.getAttribute('data-store'), why: why.length === 1 ? why[0].textContent : why.length + ' sentences', policy: policy.length === 1 ? policy[0].textContent : policy.length + ' policy boxes' });
  });
  var pre = document.createElement('script'); pre.type = 'application/json'; pre.id = 'layout-result';
  pre.textContent = JSON.stringify(out).replace(/</g, '\\\\u003c');
  // In the frame of measureLayout's host page: the result goes to the page Chromium dumps.
  (window.parent === window ? document.body : window.parent.document.body).appendChild(pre);
})();
`;

/**
 * Lays `html` out in headless Chromium with a viewport `width` CSS px wide and returns what the measuring script
 * found. The page runs in an iframe of that width (headless Chromium will not make a window narrower than 500 px),
 * tall enough never to scroll vertically: its `innerWidth`, media queries and layout are a phone's.
 */
export function measureLayout(html: string, width: number): Layout {
  const dir = mkdtempSync(path.join(tmpdir(), 'reconnect-report-layout-'));
  const file = path.join(dir, 'host.html');
  const page = html.replace(/<\/body>\s*<\/html>\s*$/, `<script>${measure}</script>\n</body>\n</html>\n`);
  const srcdoc = page.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
  writeFileSync(
    file,
    `<!doctype html><html><head><meta charset="utf-8"><style>body{margin:0}iframe{border:0;display:block}</style></head>` +
      `<body><iframe width="${width}" height="40000" scrolling="no" srcdoc="${srcdoc}"></iframe></body></html>`,
  );
  const r = spawnSync(
    chromiumBinary(),
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--host-resolver-rules=MAP * ~NOTFOUND',
      `--window-size=${Math.max(width, 800)},1400`,
      `--user-data-dir=${path.join(dir, 'profile')}`,
      '--dump-dom',
      '--virtual-time-budget=5000',
      `file://${file}`,
    ],
    { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const found = /<script type="application\/json" id="layout-result">(.*?)<\/script>/s.exec(r.stdout);
  if (found?.[1] === undefined)
    throw new Error(`no layout measured (chromium exit ${r.status}): ${r.stderr.slice(0, 2000)}`);
  return JSON.parse(found[1]) as Layout;
}

/** The report file's HTML, for {@link measureLayout}. */
export function readReport(file: string): string {
  return readFileSync(file, 'utf8');
}
