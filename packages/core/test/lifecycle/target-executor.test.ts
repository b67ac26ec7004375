// A reload that keeps the breaker must not pile up listeners on it, and must keep the target's own listener.
import { describe, expect, it, vi } from 'vitest';
import {
  resolvePolicy,
  systemClock,
  type BreakerStateChangeEvent,
  type ResolvedPolicy,
} from '../../src/index.js';
import { buildRunner, type TargetRunner } from '../../src/lifecycle/target/executor.js';
import { TypedEmitter } from '../../src/util/typed-emitter.js';

const policy = (maxRetries: number, openFor = '1m'): ResolvedPolicy =>
  resolvePolicy({
    retry: { maxRetries },
    circuitBreaker: { enabled: true, mode: 'consecutive', failureThreshold: 1, openFor },
  });

describe('buildRunner across reloads', () => {
  it('keeps one breaker, one target listener and one executor listener however many reloads', () => {
    const on = vi.spyOn(TypedEmitter.prototype, 'on');
    const off = vi.spyOn(TypedEmitter.prototype, 'off');
    const changes: BreakerStateChangeEvent[] = [];
    const opts = {
      target: 't',
      driver: { system: 'x', classify: () => ({ kind: 'unknown' as const }) },
      source: { acquire: () => ({ client: {}, node: undefined }) },
      clock: systemClock,
      random: Math.random,
      events: {},
      breakerChanged: (e: BreakerStateChangeEvent) => void changes.push(e),
    };
    let before = policy(0);
    let runner: TargetRunner<object> = buildRunner({ ...opts, policy: before });
    const breaker = runner.breaker!;
    const net = () =>
      on.mock.contexts.filter((c) => c === breaker).length -
      off.mock.contexts.filter((c) => c === breaker).length;
    const initial = net();
    expect(initial).toBe(2); // the target's listener and the executor's metric listener
    for (let i = 1; i <= 20; i++) {
      const next = policy(i % 3);
      const fresh = buildRunner({ ...opts, policy: next }, { runner, before });
      runner.retire(fresh);
      runner = fresh;
      before = next;
    }
    expect(runner.breaker).toBe(breaker); // the same breaker, state and all
    expect(net()).toBe(initial);
    breaker.failure();
    expect(changes.map((c) => c.to)).toEqual(['open']); // the target still hears it
    // A changed breaker section: a new breaker, the old one left with no listener of ours.
    const fresh = buildRunner({ ...opts, policy: policy(1, '2m') }, { runner, before });
    runner.retire(fresh);
    expect(fresh.breaker).not.toBe(breaker);
    expect(net()).toBe(0);
    on.mockRestore();
    off.mockRestore();
  });
});
