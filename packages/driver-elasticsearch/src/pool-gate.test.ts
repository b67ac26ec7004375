import { Client } from '@elastic/elasticsearch';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SocketPacer } from './connect-pacer.js';
import { poolGate } from './pool-gate.js';
import { RecoveryWindow } from './recovery-window.js';

// Issue 26: while a node recovers, its client's pool grows by one undici Client (one socket) a paced turn, and the
// requests that wait go to the first Client free. A stand-in for undici's Pool with the same private symbols (by
// description), on vitest's fake timers; and the real Pool's symbols are found.

const kConnections: unique symbol = Symbol('connections');
const kClients: unique symbol = Symbol('clients');
const kQueued: unique symbol = Symbol('queued');
const kGetDispatcher: unique symbol = Symbol('get dispatcher');
const kOnDrain: unique symbol = Symbol('onDrain');
const kUrl: unique symbol = Symbol('url');

/** A pool of one-request-at-a-time clients, created on demand up to its cap; what finds none waits in its queue. */
class FakePool {
  [kConnections]: number | null = 256;
  [kClients]: { busy: boolean; createdAt: number }[] = [];
  [kQueued] = 0;
  [kUrl] = 'http://node:9200';
  served: number[] = [];
  [kGetDispatcher](): { busy: boolean; createdAt: number } | undefined {
    const free = this[kClients].find((c) => !c.busy);
    if (free !== undefined) return free;
    const cap = this[kConnections];
    if (cap !== null && cap !== 0 && this[kClients].length >= cap) return undefined;
    const c = { busy: false, createdAt: Date.now() };
    this[kClients].push(c);
    return c;
  }
  [kOnDrain](client: { busy: boolean }) {
    if (this[kQueued] > 0 && !client.busy) {
      this[kQueued]--;
      this.#serve(client);
    }
  }
  request() {
    const c = this[kGetDispatcher]();
    if (c === undefined) this[kQueued]++;
    else this.#serve(c);
  }
  /** Each request holds its client 100 ms; the client then takes the next one waiting. */
  #serve(c: { busy: boolean }) {
    c.busy = true;
    setTimeout(() => {
      c.busy = false;
      this.served.push(Date.now());
      this[kOnDrain](c);
    }, 100);
  }
}

describe('poolGate', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup() {
    const pool = new FakePool();
    const recovery = new RecoveryWindow({ settleMs: 1000, now: () => Date.now() });
    const pacer = new SocketPacer({ perSecond: 5, random: () => 0, now: () => Date.now() });
    const gate = poolGate(pool, pacer, recovery)!;
    const request = (urgent = false) => {
      gate.admit(urgent);
      pool.request();
      gate.settled();
    };
    return { pool, recovery, gate, request };
  }

  it('finds the private parts of the Pool @elastic/elasticsearch makes (undici)', async () => {
    const client = new Client({ node: 'http://127.0.0.1:1' });
    const pool = (client.connectionPool as unknown as { connections: { pool: unknown }[] }).connections[0]!
      .pool;
    const recovery = new RecoveryWindow({ settleMs: 1000 });
    expect(poolGate(pool, new SocketPacer({ perSecond: 5 }), recovery)).toBeDefined();
    expect(poolGate({}, new SocketPacer({ perSecond: 5 }), recovery)).toBeUndefined();
    await client.close();
  });

  it('a healthy node: the pool keeps its own cap, a burst gets a client each at once', () => {
    const { pool, request } = setup();
    for (let i = 0; i < 8; i++) request();
    expect(pool[kClients].map((c) => c.createdAt)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(pool[kConnections]).toBe(256);
  });

  it('recovering: one client at once, then one a turn (200 ms) while requests wait; the waiting ones go to the first free', async () => {
    const { pool, recovery, request } = setup();
    recovery.lost();
    for (let i = 0; i < 8; i++) request();
    expect(pool[kClients]).toHaveLength(1);
    expect(pool[kQueued]).toBe(7);
    await vi.advanceTimersByTimeAsync(1000);
    // 8 requests of 100 ms: the first client serves one after another, a second (200 ms) and a third (400 ms)
    // help; the queue is empty by 400 ms, so no fourth.
    expect(pool[kClients].map((c) => c.createdAt)).toEqual([0, 200, 400]);
    expect(pool.served).toEqual([100, 200, 300, 300, 400, 400, 500, 500]);
    expect(pool[kQueued]).toBe(0);
  });

  it("the driver's own request (urgent) gets a client at once while others wait", () => {
    const { pool, recovery, request } = setup();
    recovery.lost();
    for (let i = 0; i < 4; i++) request();
    expect(pool[kClients]).toHaveLength(1);
    request(true);
    expect(pool[kClients]).toHaveLength(2);
    expect(pool[kQueued]).toBe(3);
  });

  it('recovered (settled) while requests wait: the cap is the pool’s own again and they all go', async () => {
    const { pool, recovery, request } = setup();
    recovery.lost();
    recovery.connected();
    // 80 requests of 100 ms each: ~30 are served in the first second, by 1 then up to 5 clients.
    for (let i = 0; i < 80; i++) request();
    await vi.advanceTimersByTimeAsync(999);
    expect(pool[kClients]).toHaveLength(5);
    expect(pool[kQueued]).toBeGreaterThan(20);
    // Settled at 1000 ms: at the next turn, every waiting request gets a client.
    await vi.advanceTimersByTimeAsync(300);
    expect(pool[kConnections]).toBe(256);
    expect(pool[kQueued]).toBe(0);
    expect(pool[kClients].length).toBeGreaterThan(20);
  });

  it('stop() hands what waits to the pool at once (a closing client does not wait for turns)', () => {
    const { pool, recovery, gate, request } = setup();
    recovery.lost();
    for (let i = 0; i < 6; i++) request();
    expect(pool[kQueued]).toBe(5);
    gate.stop();
    expect(pool[kQueued]).toBe(0);
    expect(pool[kConnections]).toBe(256);
    expect(vi.getTimerCount()).toBe(6);
  });
});
