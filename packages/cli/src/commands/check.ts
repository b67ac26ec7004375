import { parseArgs } from 'node:util';
import { describeError, type ConfigError, type Driver, type NodeAddress } from '@reconnect/core';
import { displayPath, formatIssues } from '../format.js';
import { ExitCode, type Io } from '../io.js';
import { formatTable } from '../live/live-view.js';
import { loadTargets, type LoadedTarget } from '../targets.js';

/** `reconnect check --help`. */
export const checkHelp = `Usage: reconnect check [--config FILE] [--json] [TARGET...]

Connects every target (or the ones named) once, runs its probe on every node,
closes the connections again and prints a table: target, driver, where it points
(no credentials), state, latency and the error's kind and code. Exits 0 only if
every required target is up (a multi-node target is up when one node is): for
deploy smoke tests, CI and Kubernetes init containers.

Options:
  -c, --config FILE  the policy file (default: found in the current directory)
      --json         print a JSON document instead of the table
  -h, --help         show this help
`;

/** One node's result. */
export interface NodeCheck {
  node: string | null;
  ok: boolean;
  /** Connect plus probe, in ms. */
  latencyMs: number;
  /** The probe alone, when the connect succeeded. */
  probeMs: number | null;
  error: { kind: string; code: string | null; message: string } | null;
}

/** One target's result. */
export interface TargetCheck {
  target: string;
  driver: string;
  where: string;
  required: boolean;
  ok: boolean;
  nodes: NodeCheck[];
}

/** Runs `reconnect check`. */
export async function check(argv: readonly string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.stdout.write(checkHelp);
    return ExitCode.OK;
  }
  const loaded = await loadTargets(values.config, positionals, io);
  if (!loaded.ok) {
    reportInvalid(loaded.error, values.json, io);
    return ExitCode.INVALID;
  }
  const results = await Promise.all(loaded.targets.map((t) => checkTarget(t)));
  const ok = results.every((r) => r.ok || !r.required);
  if (values.json) {
    const file = loaded.config.file ?? null;
    io.stdout.write(`${JSON.stringify({ ok, file, targets: results }, null, 2)}\n`);
    return ok ? ExitCode.OK : ExitCode.INVALID;
  }
  const rows: string[][] = [];
  for (const r of results) {
    for (const n of r.nodes) {
      rows.push([
        r.target,
        r.driver,
        n.node ?? r.where,
        n.ok ? 'up' : 'down',
        `${n.latencyMs} ms`,
        n.error === null
          ? ''
          : `${n.error.kind}${n.error.code === null ? '' : ` ${n.error.code}`}: ${n.error.message}`,
      ]);
    }
  }
  const table = formatTable({ headers: ['TARGET', 'DRIVER', 'WHERE', 'STATE', 'LATENCY', 'ERROR'], rows });
  const up = results.filter((r) => r.ok).length;
  const down = results.filter((r) => !r.ok);
  const verdict = ok
    ? `✓ ${up} of ${results.length} target${results.length === 1 ? '' : 's'} up`
    : `✗ required target${down.filter((d) => d.required).length === 1 ? '' : 's'} down: ${down
        .filter((d) => d.required)
        .map((d) => d.target)
        .join(', ')}`;
  const optionalDown = down.filter((d) => !d.required).map((d) => d.target);
  const note = optionalDown.length > 0 ? ` (optional, down: ${optionalDown.join(', ')})` : '';
  io.stdout.write(`${table.join('\n')}\n${verdict}${note}\n`);
  return ok ? ExitCode.OK : ExitCode.INVALID;
}

function reportInvalid(error: ConfigError, json: boolean, io: Io): void {
  if (json) {
    io.stdout.write(
      `${JSON.stringify({ ok: false, file: error.file ?? null, issues: error.issues }, null, 2)}\n`,
    );
    return;
  }
  const file = displayPath(error.file, io.cwd) ?? 'configuration';
  const count = `${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}`;
  io.stderr.write(`✗ ${file} is invalid: ${count}\n${formatIssues(error.issues, io.cwd).join('\n')}\n`);
}

/** Connects each node once (bounded by `reconnect.connectTimeout`), probes it (bounded by `healthCheck.timeout`), closes it. */
export async function checkTarget(t: LoadedTarget): Promise<TargetCheck> {
  const { driver, options } = t;
  const nodes: (NodeAddress | undefined)[] = driver.nodes?.(options) ?? [undefined];
  const where = safeDescribe(driver, options);
  const results = await Promise.all(
    (nodes.length === 0 ? [undefined] : nodes).map((node) => checkNode(t, node)),
  );
  return {
    target: t.name,
    driver: t.driverName,
    where,
    required: t.required,
    ok: results.some((r) => r.ok),
    nodes: results,
  };
}

async function checkNode(t: LoadedTarget, node: NodeAddress | undefined): Promise<NodeCheck> {
  const { driver, options, policy } = t;
  const started = performance.now();
  const connectMs = Math.max(1, policy.reconnect.connectTimeout);
  const probeMs = Math.max(1, policy.healthCheck.timeout);
  let client: unknown;
  let connected = false;
  let probeStart = 0;
  const connectAbort = new AbortController();
  try {
    const connecting = driver.connect(options, {
      ...(node === undefined ? {} : { node }),
      signal: connectAbort.signal,
      policy,
      target: t.name,
    });
    try {
      client = await bounded(connectMs, 'connect', () => connecting, connectAbort);
    } catch (error) {
      // A client that arrives after the timeout is closed, so no socket outlives the check.
      connecting.then((late) => driver.close(late)).catch(() => {});
      throw error;
    }
    connected = true;
    probeStart = performance.now();
    await bounded(probeMs, 'probe', (signal) =>
      driver.probe(client, {
        signal,
        ...(policy.healthCheck.query === undefined ? {} : { query: policy.healthCheck.query }),
      }),
    );
    const end = performance.now();
    return {
      node: node?.id ?? null,
      ok: true,
      latencyMs: Math.round(end - started),
      probeMs: Math.round(end - probeStart),
      error: null,
    };
  } catch (error) {
    let kind = 'unknown';
    let code: string | null = null;
    if (error instanceof CheckTimeout) {
      kind = 'timeout';
      code = error.code;
    } else {
      try {
        const c = driver.classify(error);
        kind = c.kind;
        code = c.code === undefined ? null : String(c.code);
      } catch {
        // A classify that throws leaves the kind unknown.
      }
    }
    const described = describeError(error);
    if (code === null && described?.code !== undefined) code = described.code;
    return {
      node: node?.id ?? null,
      ok: false,
      latencyMs: Math.round(performance.now() - started),
      probeMs: connected ? Math.round(performance.now() - probeStart) : null,
      error: { kind, code, message: described?.message ?? 'failed' },
    };
  } finally {
    if (connected) await bounded(2000, 'close', () => driver.close(client)).catch(() => {});
  }
}

/** A step that did not finish within its policy's time. */
class CheckTimeout extends Error {
  constructor(
    readonly step: string,
    readonly ms: number,
  ) {
    super(`${step} did not finish within ${ms} ms`);
  }
  get code(): string {
    return `${this.step.toUpperCase()}_TIMEOUT`;
  }
}

/** Runs `fn` with a signal aborted after `ms`, and stops waiting for it then even if it ignores the signal. */
async function bounded<T>(
  ms: number,
  step: string,
  fn: (signal: AbortSignal) => Promise<T>,
  controller = new AbortController(),
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const e = new CheckTimeout(step, ms);
      controller.abort(e);
      reject(e);
    }, ms);
  });
  try {
    return await Promise.race([fn(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function safeDescribe(driver: Driver, options: unknown): string {
  try {
    return driver.describe?.(options) ?? '(not described)';
  } catch {
    return '(not described)';
  }
}
