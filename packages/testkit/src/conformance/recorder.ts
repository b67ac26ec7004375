import type { Target, TargetEvents, TargetState } from '@reconnect/core';
import { waitFor } from '../util/wait.js';

/** One event a target emitted, stamped with `performance.now()` when it arrived. */
export interface RecordedEvent {
  name: keyof TargetEvents;
  t: number;
  payload: unknown;
}

const eventNames = [
  'stateChange',
  'disconnect',
  'reconnect',
  'reconnectFailed',
  'healthCheck',
  'retry',
  'giveUp',
] as const;

/** Records a target's events so a scenario can assert on their order and timing. */
export class EventRecorder {
  readonly events: RecordedEvent[] = [];
  readonly #unsubscribe: (() => void)[] = [];

  constructor(target: Target<unknown>) {
    for (const name of eventNames) {
      this.#unsubscribe.push(
        target.on(name, (payload) => this.events.push({ name, t: performance.now(), payload })),
      );
    }
  }

  /** Events of one kind since time `from`. */
  since<K extends keyof TargetEvents>(name: K, from: number): { t: number; payload: TargetEvents[K] }[] {
    return this.events
      .filter((e) => e.name === name && e.t >= from)
      .map((e) => ({ t: e.t, payload: e.payload as TargetEvents[K] }));
  }

  /** `from → to` state transitions since time `from`. */
  transitions(from: number): string[] {
    return this.since('stateChange', from).map((e) => `${e.payload.from}→${e.payload.to}`);
  }

  /** Waits (bounded) for the first event of `name` since `from`; resolves with its time. */
  async next(
    name: keyof TargetEvents,
    from: number,
    timeoutMs: number,
    what = `a ${name} event`,
  ): Promise<number> {
    return waitFor(what, () => this.events.find((e) => e.name === name && e.t >= from)?.t, {
      timeoutMs,
      intervalMs: 5,
    });
  }

  /** Waits (bounded) until the target enters `state` (by a stateChange since `from`); resolves with its time. */
  async state(to: TargetState, from: number, timeoutMs: number): Promise<number> {
    return waitFor(`state ${to}`, () => this.since('stateChange', from).find((e) => e.payload.to === to)?.t, {
      timeoutMs,
      intervalMs: 5,
    });
  }

  /** Waits (bounded) until the target leaves `connected` after `from`. */
  async leaves(state: TargetState, from: number, timeoutMs: number): Promise<number> {
    return waitFor(
      `leaving ${state}`,
      () => this.since('stateChange', from).find((e) => e.payload.from === state)?.t,
      { timeoutMs, intervalMs: 5 },
    );
  }

  dispose(): void {
    for (const off of this.#unsubscribe) off();
  }
}

/** A promise's outcome with the time it settled, observed without awaiting it. */
export interface Settled<T> {
  readonly started: number;
  readonly done: Promise<{ ok: true; value: T; at: number } | { ok: false; error: unknown; at: number }>;
}

/** Starts observing `promise` now. */
export function observe<T>(promise: Promise<T>): Settled<T> {
  const started = performance.now();
  return {
    started,
    done: promise.then(
      (value) => ({ ok: true as const, value, at: performance.now() }),
      (error: unknown) => ({ ok: false as const, error, at: performance.now() }),
    ),
  };
}
