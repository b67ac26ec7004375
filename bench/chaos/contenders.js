// The contenders of `npm run bench:chaos`: how an application talks to the store. Each one is built
// against one store's run (its endpoint) and runs the same read and write; `events` are what it says
// about itself (Reconnect's target events; cockatiel's retries), used for "time to detect".
import { createTarget } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { ExponentialBackoff, handleAll, retry, timeout, TimeoutStrategy, wrap } from 'cockatiel';

/** cockatiel as users glue it around each call: 3 retries (100 ms doubling to 1 s) around a 1 s timeout. */
export const COCKATIEL = {
  maxAttempts: 3,
  timeoutMs: 1000,
  backoff: { initialDelay: 100, maxDelay: 1000 },
};
// cockatiel's ExponentialBackoff (decorrelated jitter) waits at most maxDelay between attempts.
const cockatielBoundMs = (COCKATIEL.maxAttempts + 1) * COCKATIEL.timeoutMs + COCKATIEL.maxAttempts * 1000;

/**
 * @typedef {object} Contender
 * @property {string} key         short id, also the write lane (an ES index name: lower case)
 * @property {string} title       for the tables
 * @property {(store: import('./stores.js').BenchStore, run: import('./stores.js').StoreRun, now: () => number) => Promise<Running>} create
 */

/**
 * @typedef {object} Running
 * @property {(kind: 'read' | 'write', id: string) => Promise<unknown>} op
 * @property {{ at: number, kind: string, to?: string }[] | undefined} events   undefined: detection = the first failed op
 * @property {number | undefined} deadlineMs  what the contender promises an operation takes at most
 * @property {string} policyNote
 * @property {() => Promise<void>} close
 */

function raw(replayWrites = false) {
  return async (_store, run) => {
    const client = await run.rawClient();
    return {
      op: async (kind, id) => {
        if (kind === 'read') return run.read(client);
        const r = await run.write(client, replayWrites ? 'replay' : 'raw', id);
        // The deliberately broken contender: every write is sent a second time (the gating test's check).
        if (replayWrites) await run.write(client, 'replay', id);
        return r;
      },
      events: undefined,
      deadlineMs: undefined,
      policyNote: replayWrites ? 'defaults; every write sent twice' : 'defaults',
      close: () => run.closeRaw(client),
    };
  };
}

function cockatiel() {
  return async (_store, run, now) => {
    const client = await run.rawClient();
    const events = [];
    const retries = retry(handleAll, {
      maxAttempts: COCKATIEL.maxAttempts,
      backoff: new ExponentialBackoff(COCKATIEL.backoff),
    });
    const policy = wrap(retries, timeout(COCKATIEL.timeoutMs, TimeoutStrategy.Aggressive));
    const listener = retries.onRetry(() => events.push({ at: now(), kind: 'retry' }));
    return {
      op: (kind, id) =>
        policy.execute(() => (kind === 'read' ? run.read(client) : run.write(client, 'cockatiel', id))),
      events,
      deadlineMs: cockatielBoundMs,
      policyNote: `retry ×${COCKATIEL.maxAttempts} (100 ms→1 s) around a ${COCKATIEL.timeoutMs} ms timeout, on every call`,
      close: async () => {
        listener.dispose();
        await run.closeRaw(client);
      },
    };
  };
}

/** What the `durable` contender asks of a replicated Redis: every write confirmed by 1 replica within 500 ms. */
export const DURABLE_WAIT = { replicas: 1, timeout: '500ms' };

/**
 * Reconnect with a store preset. `keyed`: writes carry an idempotency key (the store's fence: run.keyed), so they
 * are retried like reads and end applied or not applied, never unknown. `durable`: the Redis driver's
 * `waitForReplicas` (WAIT after each write), on a store with replicas.
 */
function reconnect(lane, presetOf, keyed = false, durable = false) {
  return async (store, run, now) => {
    if (keyed && run.keyed === undefined) throw new Error(`${store.title} has no idempotency-key write`);
    if (durable && store.replicated !== true)
      throw new Error(`${store.title} has no replica to confirm writes`);
    const { driverPackage, options: plain } = run.reconnectOptions();
    let options = keyed && run.keyed.options !== undefined ? run.keyed.options(plain) : plain;
    if (durable) options = { ...options, waitForReplicas: DURABLE_WAIT };
    const mod = await import(driverPackage);
    const name = presetOf(store);
    const target = createTarget({
      name: `${store.key}-${lane}`,
      driver: mod.default,
      options,
      policy: presets[name].policy,
    });
    const events = [];
    const rec = (kind, extra) => events.push({ at: now(), kind, ...extra });
    target.on('stateChange', (e) => rec('state', { to: e.to, from: e.from }));
    target.on('nodeDead', () => rec('node-dead'));
    target.on('retry', () => rec('retry'));
    target.on('giveUp', () => rec('give-up'));
    await target.start();
    if (keyed) await run.keyed.setup?.(target);
    const { retry: r } = target.policy;
    const write = keyed
      ? (id) => run.keyed.write(target, lane, id)
      : (id) => target.execute((c) => run.write(c, lane, id), { name: 'write' });
    return {
      op: (kind, id) =>
        kind === 'read' ? target.execute((c) => run.read(c), { idempotent: true, name: 'read' }) : write(id),
      events,
      deadlineMs: r.deadline,
      policyNote: `preset:${name} (deadline ${r.deadline} ms, attempt ${r.attemptTimeout} ms)${keyed ? `; writes: ${run.keyed.note}` : ''}${durable ? `; waitForReplicas ${DURABLE_WAIT.replicas} within ${DURABLE_WAIT.timeout}` : ''}`,
      close: () => target.stop(),
    };
  };
}

/** @type {Record<string, Contender>} */
export const contenders = {
  raw: { key: 'raw', title: 'raw client (defaults)', create: raw() },
  cockatiel: { key: 'cockatiel', title: 'raw + cockatiel retry/timeout', create: cockatiel() },
  preset: {
    key: 'preset',
    title: 'Reconnect, store preset',
    create: reconnect('preset', (s) => s.preset),
  },
  fast: {
    key: 'fast',
    title: 'Reconnect, preset:fast-failover',
    create: reconnect('fast', () => 'fast-failover'),
  },
  keys: {
    key: 'keys',
    title: 'Reconnect, writes with idempotency keys',
    create: reconnect('keys', (s) => s.preset, true),
  },
  // Stores with replicas only (redis-sentinel): the writes a failover would lose fail NOT_REPLICATED instead.
  durable: {
    key: 'durable',
    title: 'Reconnect, writes confirmed by a replica (WAIT)',
    create: reconnect('durable', (s) => s.preset, false, true),
  },
  // Not in the default set: the gating test's proof that duplicates are caught.
  replay: { key: 'replay', title: 'raw client replaying every write (broken on purpose)', create: raw(true) },
};

export const defaultContenders = ['raw', 'cockatiel', 'preset', 'fast'];
