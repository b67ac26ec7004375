import { parseArgs } from 'node:util';
import { createManager, formatDuration, parseDuration, type Driver, type Manager } from '@reconnect/core';
import { displayPath, formatIssues } from '../format.js';
import { ExitCode, type Io } from '../io.js';
import { figure, formatTable, LiveView } from '../live/live-view.js';
import { TargetMonitor, type MonitorEvent, type TargetStats } from '../live/target-monitor.js';
import { loadTargets, type LoadedTarget } from '../targets.js';

/** `reconnect watch --help`. */
export const watchHelp = `Usage: reconnect watch [--config FILE] [--for DURATION] [TARGET...]

Starts every target (or the ones named) and keeps them running, showing their
state live: redrawn in place on a terminal, a line log otherwise (pipes, CI).
Every state change, node death and resurrection, breaker flip and failed
reconnect attempt is printed as it happens. Ctrl-C (SIGINT) or SIGTERM stops
every target cleanly and exits 0.

Options:
  -c, --config FILE    the policy file (default: found in the current directory)
      --for DURATION   stop by itself after this long (e.g. 30s); default: until Ctrl-C
      --every DURATION how often the view is refreshed (default 500ms on a
                       terminal; the line log prints it every 5s)
  -h, --help           show this help
`;

/** The columns the watch view (and the demo's, which adds operation figures) shows per target. */
export function targetCells(s: TargetStats, since: number, now: number): string[] {
  return [
    s.name,
    s.state,
    formatDuration(Math.max(0, Math.round((now - since) / 100) * 100)),
    s.nodesTotal === 0 ? '—' : `${s.nodesAlive}/${s.nodesTotal}`,
    s.breaker,
    `${s.probes - s.probeFailures}/${s.probes}`,
    s.lastProbeMs === undefined ? '—' : `${figure(s.lastProbeMs)} ms`,
    String(s.retries),
    s.lastErrorCode ?? '',
  ];
}

/** Headers for {@link targetCells}. */
export const targetHeaders = [
  'TARGET',
  'STATE',
  'FOR',
  'NODES',
  'BREAKER',
  'PROBES OK',
  'PROBE',
  'RETRIES',
  'LAST ERROR',
];

/** Runs `reconnect watch` until SIGINT / SIGTERM, `io.signal`, or `--for`. */
export async function watch(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      for: { type: 'string' },
      every: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(watchHelp);
    return ExitCode.OK;
  }
  const forMs = values.for === undefined ? undefined : parseDuration(values.for);
  const everyMs = values.every === undefined ? 500 : (parseDuration(values.every) ?? Number.NaN);
  if ((values.for !== undefined && !(forMs !== undefined && forMs > 0)) || !(everyMs > 0)) {
    io.stderr.write(
      `reconnect watch: --for and --every take a duration such as 500ms or 30s\n\n${watchHelp}`,
    );
    return ExitCode.USAGE;
  }
  const loaded = await loadTargets(values.config, positionals, io);
  if (!loaded.ok) {
    const file = displayPath(loaded.error.file, io.cwd) ?? 'configuration';
    io.stderr.write(`✗ ${file} is invalid:\n${formatIssues(loaded.error.issues, io.cwd).join('\n')}\n`);
    return ExitCode.INVALID;
  }
  const drivers: Record<string, Driver> = {};
  const targets: Record<string, Pick<LoadedTarget, 'options' | 'required' | 'policy'> & { driver: string }> =
    {};
  for (const t of loaded.targets) {
    drivers[t.driverName] = t.driver;
    targets[t.name] = { driver: t.driverName, options: t.options, required: t.required, policy: t.policy };
  }
  const manager: Manager = await createManager({
    resolved: { targets, file: loaded.config.file },
    drivers,
    cwd: io.cwd,
  });

  const view = new LiveView(io.stdout, {
    ...(io.stdout.isTTY === undefined ? {} : { tty: io.stdout.isTTY }),
    logEveryMs: Math.max(5000, everyMs),
  });
  const stamp = (at: number): string => new Date(at).toISOString().slice(11, 23);
  const since = new Map<string, number>();
  let stopping = false;
  const monitors = manager.names().map((name) => {
    since.set(name, Date.now());
    return new TargetMonitor(manager.target(name), (e: MonitorEvent) => {
      // While stopping, probes cut short by stop() may report nodes dead: that is not news about the servers.
      if (stopping && e.kind !== 'state') return;
      if (e.kind === 'state') since.set(e.target, e.at);
      view.event(`${stamp(e.at)}  ${e.text}`);
    });
  });
  const file = displayPath(loaded.config.file, io.cwd) ?? 'configuration';
  view.event(`watching ${manager.names().join(', ')} from ${file}; Ctrl-C stops`);
  const draw = (): void => {
    const now = Date.now();
    const rows = monitors.map((m) => targetCells(m.snapshot(), since.get(m.target.name) ?? now, now));
    view.update(formatTable({ headers: targetHeaders, rows }), now);
  };

  let ticker: NodeJS.Timeout | undefined;
  const listeners: [NodeJS.Signals, () => void][] = [];
  const stopped = new Promise<string>((resolve) => {
    const external = io.signal;
    if (external === undefined) {
      for (const sig of ['SIGINT', 'SIGTERM'] as const) {
        const on = (): void => resolve(sig);
        listeners.push([sig, on]);
        process.once(sig, on);
      }
    } else if (external.aborted) resolve('abort');
    else external.addEventListener('abort', () => resolve('abort'), { once: true });
    if (forMs !== undefined) setTimeout(() => resolve(`--for ${values.for}`), forMs).unref();
    // The ticking view keeps the process alive until one of the above.
    ticker = setInterval(draw, everyMs);
  });

  void manager.startAll().then((results) => {
    for (const [name, r] of Object.entries(results)) {
      if (!r.ok) view.event(`${stamp(Date.now())}  ${name}: start failed, still retrying per its policy`);
    }
  });
  draw();
  const why = await stopped;
  stopping = true;
  clearInterval(ticker);
  for (const [sig, on] of listeners) process.off(sig, on);
  view.event(`${stamp(Date.now())}  stopping (${why})…`);
  const t0 = Date.now();
  await manager.stopAll();
  draw();
  view.close();
  for (const m of monitors) m.dispose();
  io.stdout.write(`stopped every target in ${Date.now() - t0} ms\n`);
  return ExitCode.OK;
}
