/** One operation's timing and outcome, as {@link opStream} records it. */
export interface OpResult {
  startedAt: number;
  settledAt: number;
  ok: boolean;
  value?: unknown;
  error?: unknown;
}

/** A steady stream of operations started by {@link opStream}. */
export interface OpStream {
  /** Every settled operation, in the order they settled. */
  readonly results: OpResult[];
  /** Stops starting operations and waits for those in flight. */
  stop(): Promise<void>;
  /** When (Date.now) the first success settled at or after `t`. */
  firstSuccessAfter(t: number): number | undefined;
  /** When the first success among operations *started* at or after `t` settled: a new caller's experience. */
  firstSuccessStartedAfter(t: number): number | undefined;
}

/**
 * Starts `op(i)` every `everyMs` (a fixed rate, not waiting for the previous one) until stopped, recording when
 * each started and settled and how: the workload of the drivers' fault tests.
 */
export function opStream(everyMs: number, op: (i: number) => Promise<unknown>): OpStream {
  const results: OpResult[] = [];
  const pending = new Set<Promise<unknown>>();
  let i = 0;
  const timer = setInterval(() => {
    const startedAt = Date.now();
    const p = op(i++).then(
      (value) => results.push({ startedAt, settledAt: Date.now(), ok: true, value }),
      (error: unknown) => results.push({ startedAt, settledAt: Date.now(), ok: false, error }),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, everyMs);
  const first = (ok: OpResult[]): number | undefined =>
    ok.length === 0 ? undefined : Math.min(...ok.map((r) => r.settledAt));
  return {
    results,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
    firstSuccessAfter: (t) => first(results.filter((r) => r.ok && r.settledAt >= t)),
    firstSuccessStartedAfter: (t) => first(results.filter((r) => r.ok && r.startedAt >= t)),
  };
}
