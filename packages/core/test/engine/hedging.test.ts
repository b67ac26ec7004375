import { describe, expect, it } from 'vitest';
import type { NodeAddress } from '../../src/driver/driver.js';
import { CircuitBreaker } from '../../src/engine/breaker/circuit-breaker.js';
import { HedgeCancelledError } from '../../src/engine/hedge-cancelled-error.js';
import type { AttemptContext } from '../../src/engine/types.js';
import type { HedgePolicy } from '../../src/policy/resolved.js';
import type { FakeClock } from '../../src/time/fake-clock.js';
import {
  breakerPolicy,
  FakeDriverError,
  FakeSource,
  nodes,
  retryPolicy,
  testExecutor,
  track,
} from './helpers.js';

// Hedged reads (retry.hedge), on a fake clock: a read not answered within the delay goes to another node as well,
// the first answer wins, the loser is cancelled and counts for nothing.

/** A source whose nodes can take a hedge (FakeSource picks a node other than `avoid`). */
class HedgeSource extends FakeSource {
  alternatives = true;
  hedgeable(avoid: NodeAddress): boolean {
    return this.alternatives && this.pool.some((n) => n.id !== avoid.id);
  }
}

const hedge = (p: Partial<HedgePolicy> = {}): HedgePolicy => ({
  enabled: true,
  delay: 50,
  maxExtraLoad: 1,
  maxAttempts: 2,
  ...p,
});

interface Call {
  node: string | undefined;
  aborted: unknown;
}

/**
 * A read that answers after `ms[node]` on the fake clock (failing with `fail[node]` if given), and records its
 * node and the reason its attempt signal aborted with.
 */
function read(clock: FakeClock, ms: Record<string, number>, fail: Record<string, Error> = {}) {
  const calls: Call[] = [];
  const op = (client: string, ctx: AttemptContext) =>
    new Promise<string>((resolve, reject) => {
      const node = ctx.node?.id ?? 'single';
      const call: Call = { node: ctx.node?.id, aborted: undefined };
      calls.push(call);
      ctx.signal.addEventListener('abort', () => {
        call.aborted = ctx.signal.reason;
      });
      clock.setTimeout(() => {
        const error = fail[node];
        if (error === undefined) resolve(client);
        else reject(error);
      }, ms[node] ?? 0);
    });
  return { op, calls };
}

const slowA = { 'a:1': 1000, 'b:2': 10 };

function setup(policy = hedge(), over: Parameters<typeof testExecutor>[0] = {}) {
  const source = new HedgeSource(nodes);
  return { ...testExecutor({ source, policy: retryPolicy({ hedge: policy }), ...over }), source };
}

describe('hedged reads', () => {
  it('a slow read is sent to the other node after the delay; the first answer wins and the loser is cancelled', async () => {
    const { executor, clock, source } = setup();
    const { op, calls } = read(clock, slowA);
    const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(49);
    expect(calls).toHaveLength(1);
    await clock.advanceAsync(11);
    expect(result.value).toBe('client@b:2');
    expect(clock.now()).toBe(60);
    expect(calls.map((c) => c.node)).toEqual(['a:1', 'b:2']);
    expect(source.requests[1]?.avoid?.id).toBe('a:1');
    expect(calls[0]?.aborted).toBeInstanceOf(HedgeCancelledError);
    expect(calls[1]?.aborted).toBeUndefined();
    // The loser is not a failure of its node: reported as cut by the hedge, with how long it ran (a lower bound
    // of its node's latency, for a latency-aware selector).
    expect(source.reports.map((r) => (r.ok ? 'ok' : r.interrupt))).toEqual(['ok', 'hedged']);
    expect(source.reports[1]).toMatchObject({ durationMs: 60, error: expect.any(HedgeCancelledError) });
  });

  it('the original answering first cancels the hedge', async () => {
    const { executor, clock, source } = setup();
    const { op, calls } = read(clock, { 'a:1': 70, 'b:2': 1000 });
    const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(70);
    expect(result.value).toBe('client@a:1');
    expect(calls).toHaveLength(2);
    expect(calls[1]?.aborted).toBeInstanceOf(HedgeCancelledError);
    expect(source.reports).toMatchObject([
      { ok: true, durationMs: 70 },
      { ok: false, interrupt: 'hedged', durationMs: 20 },
    ]);
  });

  it('never hedges a write nor a read not declared idempotent', async () => {
    for (const options of [{ idempotent: true }, { readOnly: true }, {}]) {
      const { executor, clock } = setup();
      const { op, calls } = read(clock, slowA);
      const result = track(executor.execute(op, options));
      await clock.advanceAsync(1000);
      expect(result.value).toBe('client@a:1');
      expect(calls).toHaveLength(1);
    }
  });

  it('no hedge without another live node, nor while the breaker is not closed', async () => {
    const { executor, clock, source } = setup();
    source.alternatives = false;
    const { op, calls } = read(clock, slowA);
    track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(1000);
    expect(calls).toHaveLength(1);

    // Half-open: the trial call runs, and a hedge would be a second trial.
    const b = setup();
    const breaker = new CircuitBreaker(breakerPolicy({ failureThreshold: 1, openFor: 100 }), b.clock);
    const withBreaker = setup(hedge(), { breaker, clock: b.clock });
    breaker.failure();
    await b.clock.advanceAsync(100);
    const second = read(b.clock, slowA);
    const result = track(withBreaker.executor.execute(second.op, { readOnly: true, idempotent: true }));
    await b.clock.advanceAsync(1000);
    expect(result.value).toBe('client@a:1');
    expect(second.calls).toHaveLength(1);
  });

  it('hedges at most maxExtraLoad of hedgeable reads: the budget is earned by reads, none saved at the start', async () => {
    const { executor, clock } = setup(hedge({ maxExtraLoad: 0.25 }));
    let sent = 0;
    for (let i = 0; i < 12; i++) {
      const { op, calls } = read(clock, slowA);
      const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
      await clock.advanceAsync(1000);
      expect(result.done).toBe(true);
      sent += calls.length - 1;
    }
    expect(sent).toBe(3);
  });

  it('with delay p95 nothing is hedged until 32 reads were seen, then a read slower than their p95 is', async () => {
    const { executor, clock } = setup(hedge({ delay: 'p95' }));
    for (let i = 0; i < 31; i++) {
      const { op } = read(clock, { 'a:1': 20, 'b:2': 20 });
      track(executor.execute(op, { readOnly: true, idempotent: true }));
      await clock.advanceAsync(20);
    }
    const unhedged = read(clock, slowA);
    track(executor.execute(unhedged.op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(1000);
    expect(unhedged.calls).toHaveLength(1);

    const { op, calls } = read(clock, slowA);
    const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(20);
    expect(calls).toHaveLength(2);
    await clock.advanceAsync(10);
    expect(result.value).toBe('client@b:2');
  });

  it('when every attempt fails the retry loop goes on, the hedge not counted against maxRetries', async () => {
    const { executor, clock } = setup(hedge(), { policy: retryPolicy({ maxRetries: 1, hedge: hedge() }) });
    const error = new FakeDriverError('connection');
    let round = 0;
    const calls: (string | undefined)[] = [];
    const op = (client: string, ctx: AttemptContext) => {
      calls.push(ctx.node?.id);
      const n = ++round;
      return new Promise<string>((resolve, reject) =>
        clock.setTimeout(() => (n <= 2 ? reject(error) : resolve(client)), n === 1 ? 80 : 40),
      );
    };
    const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(2000);
    expect(result.error).toBeUndefined();
    expect(result.value).toBeDefined();
    expect(calls).toHaveLength(3);
  });

  it("a caller's abort while two attempts run cancels both and gives up at once", async () => {
    const { executor, clock } = setup();
    const { op, calls } = read(clock, { 'a:1': 1000, 'b:2': 1000 });
    const controller = new AbortController();
    const result = track(
      executor.execute(op, { readOnly: true, idempotent: true, signal: controller.signal }),
    );
    await clock.advanceAsync(60);
    expect(calls).toHaveLength(2);
    controller.abort(new Error('caller gave up'));
    await clock.advanceAsync(0);
    expect(result.done).toBe(true);
    expect((result.error as { code?: string }).code).toBe('ERR_ABORTED');
    expect(calls.map((c) => (c.aborted as Error).message)).toEqual(['caller gave up', 'caller gave up']);
  });

  it('no hedge whose delay would end past the deadline', async () => {
    const { executor, clock } = setup(hedge({ delay: 500 }), {
      policy: retryPolicy({ deadline: 400, hedge: hedge({ delay: 500 }) }),
    });
    const { op, calls } = read(clock, { 'a:1': 300, 'b:2': 10 });
    const result = track(executor.execute(op, { readOnly: true, idempotent: true }));
    await clock.advanceAsync(400);
    expect(result.value).toBe('client@a:1');
    expect(calls).toHaveLength(1);
  });
});
