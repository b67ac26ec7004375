import { expect } from 'vitest';
import type { Driver, ResolvedPolicy, Target } from '@reconnect/core';
import type { FaultProxy } from '../proxy/fault-proxy.js';
import type { ServerHandle } from '../servers/server-handle.js';
import { delay, waitFor, withTimeout } from '../util/wait.js';
import type { ConformanceBounds } from './policy.js';
import { EventRecorder, observe } from './recorder.js';
import type { ScenarioResult } from './report.js';
import type { ConformanceOperations, Endpoint } from './types.js';

/** What each scenario gets from the suite. */
export interface ScenarioContext<Client> {
  server: ServerHandle;
  /** The driver, wrapped to count `connect` calls. */
  driver: Driver<unknown, Client>;
  connectCalls(): number;
  operations: ConformanceOperations<Client>;
  direct: Endpoint;
  /** Creates (and tracks for cleanup) a target for `endpoint`; `bad` uses the bad-auth options. */
  target(endpoint: Endpoint, options?: { policy?: object; badAuth?: boolean }): Target<Client>;
  /** Timers still pending on the counting clock the suite gave `target` (the core's timers are unref'd). */
  pendingTimers(target: Target<Client>): number;
  /** Starts (and tracks for cleanup) a fault proxy in front of the server. */
  proxy(): Promise<FaultProxy>;
  /** Runs `fn` with a fresh client straight to the server (not through any fault), then closes it. */
  withControl<T>(fn: (client: Client) => Promise<T>): Promise<T>;
  bounds(policy: ResolvedPolicy): ConformanceBounds;
  slackMs: number;
  outageMs: number;
}

const read = 'conformance.read';
const settleMs = 300;

async function started<Client>(target: Target<Client>): Promise<Target<Client>> {
  await withTimeout('target.start()', target.start(), 15_000);
  expect(target.state).toBe('connected');
  return target;
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const shown = typeof code === 'string' || typeof code === 'number' ? ` ${code}` : '';
    return `${error.name}${shown}: ${error.message}`;
  }
  return String(error);
}

/** How the fault of an outage scenario is made and healed. */
interface Outage {
  viaProxy: boolean;
  inject(server: ServerHandle, proxy: FaultProxy | undefined): Promise<void>;
  heal(server: ServerHandle, proxy: FaultProxy | undefined): Promise<void>;
}

/**
 * The shared shape of crash, hang, blackhole and reset: inject the fault; issue a short-deadline and a
 * policy-deadline idempotent read; the target must leave `connected` within the detection bound, the
 * short read must settle by its deadline; heal after `outageMs`; `reconnect` must fire once, within the
 * recovery bound after the server accepts again; the long read must succeed within its deadline.
 */
async function outageScenario<Client>(
  ctx: ScenarioContext<Client>,
  result: ScenarioResult,
  outage: Outage,
): Promise<void> {
  const proxy = outage.viaProxy ? await ctx.proxy() : undefined;
  const target = await started(ctx.target(proxy ?? ctx.direct));
  const bounds = ctx.bounds(target.policy);
  const recorder = new EventRecorder(target);
  try {
    await target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read });
    const acceptedBefore = proxy?.stats().accepted ?? 0;
    const shortDeadline = Math.max(200, Math.min(1200, ctx.outageMs - 300));
    const longDeadline = target.policy.retry.deadline;

    const tFault = performance.now();
    await outage.inject(ctx.server, proxy);
    const shortOp = observe(
      target.execute(ctx.operations.idempotentRead, {
        idempotent: true,
        deadline: shortDeadline,
        name: read,
      }),
    );
    const longOp = observe(target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read }));

    const tDown = await recorder.leaves('connected', tFault, bounds.detectionMs * 3 + 2000);
    result.detectionMs = tDown - tFault;
    result.detectionBoundMs = bounds.detectionMs;

    const short = await withTimeout(
      'the short-deadline operation',
      shortOp.done,
      shortDeadline + bounds.deadlineSlackMs + 5000,
    );
    const shortMs = short.at - shortOp.started;
    const notes = [
      `short op (deadline ${shortDeadline}) ${short.ok ? 'succeeded' : 'failed'} in ${Math.round(shortMs)} ms`,
    ];

    const remaining = ctx.outageMs - (performance.now() - tFault);
    if (remaining > 0) await delay(remaining);
    await outage.heal(ctx.server, proxy);
    const tAccept = performance.now();
    if (proxy !== undefined)
      notes.push(`${proxy.stats().accepted - acceptedBefore} connections during the outage`);

    const tUp = await recorder.next('reconnect', tFault, bounds.recoveryMs * 3 + 5000, 'the reconnect event');
    result.recoveryMs = Math.max(0, tUp - tAccept);
    result.recoveryBoundMs = bounds.recoveryMs;

    const long = await withTimeout(
      'the operation issued during the outage',
      longOp.done,
      longDeadline + bounds.deadlineSlackMs + 5000,
    );
    result.operationMs = long.at - longOp.started;
    result.operationDeadlineMs = longDeadline;
    result.notes = notes.join('; ');

    expect(result.detectionMs, 'fault detected within the health-check bound').toBeLessThanOrEqual(
      bounds.detectionMs,
    );
    expect(shortMs, 'the short operation settles by its deadline').toBeLessThanOrEqual(
      shortDeadline + bounds.deadlineSlackMs,
    );
    expect(
      long.ok ? 'succeeded' : `failed: ${describeError(long.error)}`,
      'the operation issued during the outage',
    ).toBe('succeeded');
    expect(
      result.operationMs,
      'the operation issued during the outage settles by its deadline',
    ).toBeLessThanOrEqual(longDeadline + bounds.deadlineSlackMs);
    expect(
      result.recoveryMs,
      'reconnected within the recovery bound after the server accepts again',
    ).toBeLessThanOrEqual(bounds.recoveryMs);
    await target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read });

    await delay(settleMs);
    const transitions = recorder.transitions(tFault);
    expect(transitions[0], 'first transition after the fault').toBe('connected→reconnecting');
    expect(transitions.at(-1), 'last transition').toMatch(/→connected$/);
    expect(
      transitions.filter((t) => t.endsWith('→failed')),
      'never failed',
    ).toEqual([]);
    expect(recorder.since('reconnect', tFault), 'reconnect fires once').toHaveLength(1);
    expect(target.state).toBe('connected');
  } finally {
    recorder.dispose();
  }
}

/** Crash: SIGKILL, then restart on the same port. */
export function crashRestart<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  return outageScenario(ctx, result, {
    viaProxy: false,
    inject: (server) => server.kill(),
    heal: (server) => server.restart(),
  });
}

/** Hang: SIGSTOP, then SIGCONT. */
export function hang<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  return outageScenario(ctx, result, {
    viaProxy: false,
    inject: (server) => server.hang(),
    heal: (server) => server.resume(),
  });
}

/** Blackhole: the proxy accepts and forwards nothing, then passes again. */
export function blackhole<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  return outageScenario(ctx, result, {
    viaProxy: true,
    inject: (_server, proxy) => Promise.resolve(proxy?.blackhole()),
    heal: async (_server, proxy) => proxy?.pass(),
  });
}

/** Reset: an RST on every connection, open and new, then passes again. */
export function reset<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  return outageScenario(ctx, result, {
    viaProxy: true,
    inject: (_server, proxy) => Promise.resolve(proxy?.reset({ persist: true })),
    heal: async (_server, proxy) => proxy?.pass(),
  });
}

/**
 * A non-idempotent write whose reply is lost (the proxy cuts the connection at the first reply byte):
 * the caller gets `outcome: 'unknown'`, and the server ran the write exactly once, even after the
 * target reconnects (no replay).
 */
export async function unknownOutcome<Client>(
  ctx: ScenarioContext<Client>,
  result: ScenarioResult,
): Promise<void> {
  const proxy = await ctx.proxy();
  // No health probe may cross the connection between the cut and the write.
  const target = await started(
    ctx.target(proxy, { policy: { healthCheck: { interval: 10_000, timeout: 1000 } } }),
  );
  await target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read });
  const before = await ctx.withControl(ctx.operations.countWrites);
  const sentBefore = proxy.stats().bytesToServer;
  proxy.cutAfter(0, 'toClient');
  const deadline = 3000;
  const write = observe(
    target.execute(ctx.operations.nonIdempotentWrite, { deadline, name: 'conformance.write' }),
  );
  const outcome = await withTimeout('the non-idempotent write', write.done, deadline + ctx.slackMs + 5000);
  result.operationMs = outcome.at - write.started;
  result.operationDeadlineMs = deadline;
  const reached = proxy.stats().bytesToServer - sentBefore;
  await proxy.pass();
  // Give a client that replays unanswered commands on reconnect the chance to do it.
  await waitFor('the target to be connected again', () => target.state === 'connected', {
    timeoutMs: 10_000,
  }).catch(() => undefined);
  await target
    .execute(ctx.operations.idempotentRead, { idempotent: true, name: read })
    .catch(() => undefined);
  await delay(settleMs * 2);
  const ran = (await ctx.withControl(ctx.operations.countWrites)) - before;
  const seen = outcome.ok ? 'resolved' : ((outcome.error as { outcome?: string }).outcome ?? 'no outcome');
  result.notes = `outcome ${seen}; ran ${ran}× on the server; ${reached} request bytes reached it`;

  expect(reached, 'the write reached the server').toBeGreaterThan(0);
  expect(outcome.ok, 'the write must fail: its reply was lost').toBe(false);
  expect(seen, `error outcome (${outcome.ok ? '' : describeError(outcome.error)})`).toBe('unknown');
  expect(ran, 'times the write ran on the server (exactly once: sent, executed, never replayed)').toBe(1);
}

function classifiedAuth(driver: Driver<unknown, unknown>, error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current !== undefined && current !== null; depth++) {
    if ((current as { kind?: unknown }).kind === 'auth') return true;
    try {
      if (driver.classify(current).kind === 'auth') return true;
    } catch {
      // a classifier that throws on a foreign error is the driver's bug, not this scenario's
    }
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** Bad credentials: `start()` rejects at once, the error is classified `auth`, and nothing retries. */
export async function auth<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  const proxy = await ctx.proxy();
  const callsBefore = ctx.connectCalls();
  const target = ctx.target(proxy, { badAuth: true });
  const bound = target.policy.reconnect.connectTimeout + ctx.slackMs;
  result.detectionBoundMs = bound;
  const start = observe(target.start());
  const outcome = await withTimeout('start() with bad credentials', start.done, bound * 2 + 2000).catch(
    (error: unknown) => {
      const last = target.lastError();
      result.notes = `start() still pending in state ${target.state} after ${ctx.connectCalls() - callsBefore} connect call(s); last error: ${last === undefined ? 'none' : describeError(last)}`;
      throw error;
    },
  );
  result.detectionMs = outcome.at - start.started;
  const calls = ctx.connectCalls() - callsBefore;
  const connections = proxy.stats().accepted;
  await delay(target.policy.reconnect.backoff.max * 2 + settleMs);
  const later = proxy.stats().accepted;
  result.notes = `${calls} connect call(s), ${connections} connection(s); ${later - connections} more after the failure`;

  expect(outcome.ok, 'start() must reject with bad credentials').toBe(false);
  if (!outcome.ok)
    expect(
      classifiedAuth(ctx.driver as Driver<unknown, unknown>, outcome.error),
      `classified auth: ${describeError(outcome.error)}`,
    ).toBe(true);
  expect(result.detectionMs, 'reported at once').toBeLessThanOrEqual(bound);
  expect(calls, 'connect is not retried').toBe(1);
  expect(later - connections, 'no connection attempts after the failure').toBe(0);
  expect(target.state).not.toBe('connected');
}

function resourceCounts(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function extraResources(baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [type, n] of resourceCounts()) {
    const before = baseline.get(type) ?? 0;
    if (n > before) extra.push(`${type} +${n - before}`);
  }
  return extra;
}

/**
 * `stop()` closes every connection (the proxy sees none left), leaves no socket or timer keeping Node alive,
 * and no timer pending on the target's clock (the core's timers are unref'd, so only the clock sees them: a
 * health checker still probing after stop() would be invisible to `process.getActiveResourcesInfo()`).
 */
export async function stop<Client>(ctx: ScenarioContext<Client>, result: ScenarioResult): Promise<void> {
  const proxy = await ctx.proxy();
  await delay(20);
  const baseline = resourceCounts();
  const target = await started(ctx.target(proxy));
  for (let i = 0; i < 3; i++)
    await target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read });
  await delay(target.policy.healthCheck.interval + 50); // let at least one health check run
  const t0 = performance.now();
  await withTimeout('target.stop()', target.stop(), 10_000);
  result.operationMs = performance.now() - t0;
  expect(target.state).toBe('stopped');
  const open = await waitFor('every connection to close', () => proxy.stats().active === 0, {
    timeoutMs: 2000,
  }).then(
    () => 0,
    () => proxy.stats().active,
  );
  const timers = await waitFor('timers to be cleared', () => ctx.pendingTimers(target) === 0, {
    timeoutMs: 2000,
  }).then(
    () => 0,
    () => ctx.pendingTimers(target),
  );
  const extra = await waitFor('handles to be released', () => extraResources(baseline).length === 0, {
    timeoutMs: 2000,
  }).then(
    () => [],
    () => extraResources(baseline),
  );
  result.notes = `stop() took ${Math.round(result.operationMs)} ms; ${proxy.stats().accepted} connection(s) opened, ${open} left open; ${timers} timer(s) pending`;
  expect(open, 'connections left open after stop()').toBe(0);
  expect(timers, "timers still pending on the target's clock after stop()").toBe(0);
  expect(extra, 'active handles left after stop() (process.getActiveResourcesInfo)').toEqual([]);
  const after = observe(target.execute(ctx.operations.idempotentRead, { idempotent: true, name: read }));
  const settled = await withTimeout('an operation after stop()', after.done, 2000);
  expect(settled.ok, 'an operation after stop() is refused').toBe(false);
}
