import { expect } from 'vitest';
import { faultNamed } from '../faults/catalogue.js';
import type { CatalogueFault } from '../faults/fault.js';
import { delay, withTimeout } from '../util/wait.js';
import { observe, type Settled } from './recorder.js';
import type { ScenarioResult } from './report.js';
import type { ScenarioContext } from './scenarios.js';

/** The name of the conformance scenario that puts a driver through catalogue fault `fault`. */
export type FaultScenarioName = `fault:${string}`;

/**
 * The catalogue fault of that name, if the conformance suite can apply it to any driver: one played on the fault
 * proxy alone (the network faults), not on a store's own server. Throws, naming the ones it can, otherwise.
 */
export function proxyFault(name: string): CatalogueFault {
  const fault = faultNamed(name);
  if (fault.group !== 'network' || !fault.viaProxy)
    throw new Error(
      `conformance faults: "${name}" is not a network fault played on the fault proxy (group ${fault.group}); ` +
        'the suite can put any driver through those only',
    );
  return fault;
}

const tick = 100;

/**
 * Catalogue fault `name` under a steady load through the fault proxy: an idempotent read and a non-idempotent write
 * every 100 ms while the fault lasts (`outageMs`) and for a second after it. The promises every driver keeps:
 * no write duplicated (the server counts at most the acknowledged and the unknown ones), none acknowledged lost,
 * none that said `not_sent` on the server, every operation settled by its deadline, and reads served after the fault.
 */
export async function catalogueFault<Client>(
  ctx: ScenarioContext<Client>,
  result: ScenarioResult,
  name: string,
): Promise<void> {
  const fault = proxyFault(name);
  const proxy = await ctx.proxy();
  const target = ctx.target(proxy);
  await withTimeout('target.start()', target.start(), 15_000);
  // The healthy baseline: what a read costs before the fault, so the fault's effect on the callers can be told.
  let healthyMs = 0;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await target.execute(ctx.operations.idempotentRead, { idempotent: true });
    healthyMs = Math.max(healthyMs, performance.now() - t);
  }
  const before = await ctx.withControl(ctx.operations.countWrites);
  const deadline = ctx.outageMs + 3000;
  const reads: Settled<unknown>[] = [];
  const writes: Settled<unknown>[] = [];
  const issue = (): void => {
    reads.push(
      observe(
        target.execute(ctx.operations.idempotentRead, {
          idempotent: true,
          deadline,
          name: 'conformance.read',
        }),
      ),
    );
    writes.push(
      observe(target.execute(ctx.operations.nonIdempotentWrite, { deadline, name: 'conformance.write' })),
    );
  };
  // The store is the network's business here: a proxy fault does not read it.
  const active = await fault.start({ store: 'redis', server: ctx.server, proxy, durationMs: ctx.outageMs });
  const faultAt = performance.now();
  try {
    while (performance.now() - faultAt < ctx.outageMs) {
      issue();
      await delay(tick);
    }
  } finally {
    await active.heal();
  }
  const healedAt = performance.now();
  while (performance.now() - healedAt < 1000) {
    issue();
    await delay(tick);
  }
  const bound = deadline + ctx.slackMs + 5000;
  const settledReads = await withTimeout('the reads', Promise.all(reads.map((o) => o.done)), bound);
  const settledWrites = await withTimeout('the writes', Promise.all(writes.map((o) => o.done)), bound);
  const ran = (await ctx.withControl(ctx.operations.countWrites)) - before;
  const outcome = (s: { ok: boolean; error?: unknown }): string =>
    s.ok ? 'ok' : ((s.error as { outcome?: string } | undefined)?.outcome ?? 'no outcome');
  const acked = settledWrites.filter((s) => s.ok).length;
  const unknown = settledWrites.filter((s) => outcome(s) === 'unknown').length;
  const slowest = Math.max(
    ...[...reads, ...writes].map((o, i) => [...settledReads, ...settledWrites][i]!.at - o.started),
  );
  // The callers saw the fault: an operation issued while it lasted failed, or took far longer than a healthy read.
  const duringFault = [...reads, ...writes]
    .map((o, i) => ({ o, s: [...settledReads, ...settledWrites][i]! }))
    .filter(({ o }) => o.started < healedAt);
  const seen = duringFault.filter(({ o, s }) => !s.ok || s.at - o.started > 2 * healthyMs + 50).length;
  const lateReads = reads
    .map((o, i) => ({ started: o.started, s: settledReads[i]! }))
    .filter((r) => r.started >= healedAt + 500 && !r.s.ok);
  result.operationMs = slowest;
  result.operationDeadlineMs = deadline;
  result.notes =
    `${writes.length} writes: ${acked} acknowledged, ${unknown} unknown, ${writes.length - acked - unknown} not sent; ` +
    `ran ${ran}× on the server; reads failed ${settledReads.filter((s) => !s.ok).length} of ${reads.length}; ` +
    `${seen} operations during the fault failed or were slowed`;

  expect(seen, 'the fault reached the callers (a fault nobody saw proves nothing)').toBeGreaterThan(0);

  expect(ran, 'no acknowledged write lost').toBeGreaterThanOrEqual(acked);
  expect(ran, 'no write duplicated, none that said not_sent on the server').toBeLessThanOrEqual(
    acked + unknown,
  );
  expect(slowest, 'every operation settled by its deadline').toBeLessThanOrEqual(deadline + ctx.slackMs);
  expect(
    lateReads.map((r) => outcome(r.s)),
    'reads issued half a second after the fault ended are served',
  ).toEqual([]);
}
