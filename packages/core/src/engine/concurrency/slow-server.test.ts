// The limiter against a model server on a fake clock: 4 workers, a FIFO queue in front of them, 2 ms an operation
// (10× slower from 10 s to 20 s: its capacity falls from 2 000/s to 200/s), and callers arriving at 1 000/s
// whatever happens to them (open loop: users do not wait for each other).
import { describe, expect, it } from 'vitest';
import type { ConcurrencyPolicy } from '../../policy/resolved.js';
import { createFakeClock } from '../../time/fake-clock.js';
import { ConcurrencyLimiter, type Permit } from './concurrency-limiter.js';

const adaptive: ConcurrencyPolicy = {
  limit: 'adaptive',
  initialLimit: 20,
  minLimit: 2,
  maxLimit: 500,
  tolerance: 2,
  window: 100,
  baselineWindow: 60_000,
  maxQueue: 0,
  queueTimeout: 50,
};

interface Outcome {
  at: number;
  /** Latency of an admitted operation (ms); undefined when refused. */
  ms: number | undefined;
}

function run(policy: ConcurrencyPolicy) {
  const clock = createFakeClock();
  const limiter = new ConcurrencyLimiter(policy, clock, 'db');
  const workers = 4;
  const serviceMs = (t: number): number => (t >= 10_000 && t < 20_000 ? 20 : 2);
  const queue: { permit: Permit; at: number; outcome: Outcome }[] = [];
  let busy = 0;
  const outcomes: Outcome[] = [];
  const limits: { t: number; limit: number }[] = [];
  const next = (): void => {
    while (busy < workers && queue.length > 0) {
      const job = queue.shift()!;
      busy++;
      clock.setTimeout(() => {
        busy--;
        job.outcome.ms = clock.now() - job.at;
        limiter.release(job.permit, clock.now() - job.permit.grantedAt);
        next();
      }, serviceMs(clock.now()));
    }
  };
  const admission = { aborted: false, onAbort: () => {}, offAbort: () => {} };
  for (let t = 0; t < 30_000; t++) {
    const outcome: Outcome = { at: t, ms: undefined };
    outcomes.push(outcome);
    try {
      // maxQueue 0: a permit now, or a refusal thrown now (nothing waits).
      const permit = limiter.acquire({ ...admission, deadlineAt: t + 10_000 }) as Permit;
      queue.push({ permit, at: t, outcome });
      next();
    } catch {
      // Refused at once: nothing reached the server.
    }
    if (t % 100 === 0) limits.push({ t, limit: limiter.limit });
    clock.advance(1);
  }
  clock.advance(10_000);
  const between = (from: number, to: number) => outcomes.filter((o) => o.at >= from && o.at < to);
  const p99 = (os: Outcome[]): number => {
    const ms = os.flatMap((o) => (o.ms === undefined ? [] : [o.ms])).sort((a, b) => a - b);
    return ms[Math.floor(ms.length * 0.99)] ?? Number.NaN;
  };
  const admitted = (os: Outcome[]) => os.filter((o) => o.ms !== undefined).length;
  return { limiter, between, p99, admitted, limits };
}

describe('an adaptive limit in front of a server slowed 10×', () => {
  it('falls within 5 s of the slowdown, keeps admitted latency near the slow server’s own, and recovers within 5 s of its end', () => {
    const { between, p99, admitted, limits } = run(adaptive);
    // Healthy: nothing refused, 2 ms each; the limit (20) never bound.
    const healthy = between(0, 10_000);
    expect(admitted(healthy)).toBe(healthy.length);
    expect(p99(healthy)).toBe(2);
    expect(limits.find((l) => l.t === 9_900)?.limit).toBe(20);
    // Slowed: the limit falls within 5 s (and stays down)...
    const fell = limits.find((l) => l.t >= 10_000 && l.limit <= 10)?.t;
    expect(fell! - 10_000).toBeLessThan(5_000);
    expect(Math.max(...limits.filter((l) => l.t >= 15_000 && l.t < 20_000).map((l) => l.limit))).toBeLessThan(
      20,
    );
    // ...so that, once settled, admitted operations take at most 2× the slowed server's own 20 ms (no queue
    // builds), and the server is kept busy: goodput ≥ 80 % of its slowed capacity (200/s), the rest refused.
    const settled = between(15_000, 20_000);
    expect(p99(settled)).toBeLessThanOrEqual(40);
    expect(admitted(settled) / 5).toBeGreaterThanOrEqual(160);
    // Healthy again: within 5 s nothing is refused and latency is back to 2 ms.
    const after = between(25_000, 30_000);
    expect(admitted(after)).toBe(after.length);
    expect(p99(after)).toBe(2);
  });

  it('without a limit, the same slowdown queues without bound: seconds of latency for every caller', () => {
    const { between, p99, admitted } = run({ ...adaptive, limit: 1_000_000 });
    const settled = between(15_000, 20_000);
    expect(admitted(settled)).toBe(settled.length);
    expect(p99(settled)).toBeGreaterThan(5_000);
  });
});
