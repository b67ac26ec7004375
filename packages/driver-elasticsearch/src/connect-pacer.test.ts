import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultConnectRate, pacedConnector, SocketPacer, type ConnectCallback } from './connect-pacer.js';

// Issue 26: a node's client paces its new sockets (a ceiling per second, jittered), except when it has none.
// The pacer on a clock the test moves; the connector under vitest's fake timers (no real time).

function pacer(perSecond: number, random: () => number) {
  let now = 1_000_000;
  const p = new SocketPacer({ perSecond, now: () => now, random });
  return {
    p,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SocketPacer', () => {
  it('off by default (a paced socket holds its request back: see defaultConnectRate)', () => {
    expect(defaultConnectRate).toBe(0);
  });

  it('after one socket, the next waits 1–1.5 × 1000 / perSecond ms (drawn from its randomness)', () => {
    const short = pacer(5, () => 0);
    expect(short.p.tryOpen(false)).toBe(true);
    expect(short.p.waitMs(false)).toBe(200);
    short.advance(199);
    expect(short.p.tryOpen(false)).toBe(false);
    short.advance(1);
    expect(short.p.tryOpen(false)).toBe(true);
    const long = pacer(5, () => 1);
    long.p.tryOpen(false);
    expect(long.p.waitMs(false)).toBe(300);
    long.advance(299);
    expect(long.p.tryOpen(false)).toBe(false);
    long.advance(1);
    expect(long.p.tryOpen(false)).toBe(true);
  });

  it('a client with no socket gets one at once, whatever the gap', () => {
    const { p } = pacer(1, () => 0.5);
    expect(p.tryOpen(false)).toBe(true);
    expect(p.tryOpen(false)).toBe(false);
    expect(p.waitMs(true)).toBe(0);
    expect(p.tryOpen(true)).toBe(true);
  });

  it('no second holds more than perSecond + 1 new sockets, whatever the jitter', () => {
    for (const r of [0, 0.5, 0.999]) {
      const { p, advance } = pacer(5, () => r);
      let opened = 0;
      for (let t = 0; t < 1000; t++) {
        if (p.tryOpen(false)) opened++;
        advance(1);
      }
      expect(opened, `random ${r}`).toBeLessThanOrEqual(6);
      expect(opened, `random ${r}`).toBeGreaterThanOrEqual(4);
    }
  });

  it('perSecond 0: no ceiling', () => {
    const { p } = pacer(0, () => 0.5);
    for (let i = 0; i < 50; i++) expect(p.tryOpen(false)).toBe(true);
    expect(p.waitMs(false)).toBe(0);
  });
});

/** A fake undici connector: records when each connect started; `open(i)` / `fail(i)` answer it. */
function fakeConnector() {
  const started: { at: number; callback: ConnectCallback; socket: EventEmitter }[] = [];
  const connector = (_options: object, callback: ConnectCallback) => {
    started.push({ at: Date.now(), callback, socket: new EventEmitter() });
  };
  return {
    connector,
    started,
    open(i: number) {
      const s = started[i]!;
      s.callback(null, s.socket as unknown as Socket);
    },
    fail(i: number) {
      started[i]!.callback(new Error('connect ECONNREFUSED'), null);
    },
    close(i: number) {
      started[i]!.socket.emit('close');
    },
  };
}

describe('pacedConnector', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a burst of connects: the first two at once, each other one a paced gap after the one before', async () => {
    const fake = fakeConnector();
    const paced = pacedConnector(fake.connector, new SocketPacer({ perSecond: 4, random: () => 0 }));
    const done: (Socket | null)[] = [];
    for (let i = 0; i < 5; i++) paced.connect({}, (_e, s) => done.push(s));
    expect(fake.started.map((s) => s.at)).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(1000);
    // 250 ms apart (random 0: the shortest gap), from the second.
    expect(fake.started.map((s) => s.at)).toEqual([0, 0, 250, 500, 750]);
    expect(paced.held()).toBe(3);
    for (let i = 0; i < 5; i++) fake.open(i);
    expect(done).toHaveLength(5);
    expect(done.every((s) => s !== null)).toBe(true);
  });

  it('a client whose sockets all closed (or never connected) connects its next ones at once', async () => {
    const fake = fakeConnector();
    const paced = pacedConnector(fake.connector, new SocketPacer({ perSecond: 1, random: () => 0 }));
    paced.connect({}, () => {});
    paced.connect({}, () => {});
    fake.open(0);
    fake.open(1);
    // Two sockets open: the next is paced (1 s after the second).
    paced.connect({}, () => {});
    expect(fake.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.started).toHaveLength(3);
    fake.open(2);
    // The node restarted: every socket closed. The next two connects do not wait for the gap.
    for (const i of [0, 1, 2]) fake.close(i);
    paced.connect({}, () => {});
    paced.connect({}, () => {});
    expect(fake.started.map((s) => s.at)).toEqual([0, 0, 1000, 1000, 1000]);
    // Refused connects leave the client empty too: the next ones are not held back.
    fake.fail(3);
    fake.fail(4);
    paced.connect({}, () => {});
    expect(fake.started).toHaveLength(6);
  });

  it('a connect waiting for its turn goes at once when the client is down to one socket', async () => {
    const fake = fakeConnector();
    const paced = pacedConnector(fake.connector, new SocketPacer({ perSecond: 0.5, random: () => 0 }));
    paced.connect({}, () => {});
    paced.connect({}, () => {});
    fake.open(0);
    fake.open(1);
    await vi.advanceTimersByTimeAsync(10);
    // A socket failed: undici asks for a new one before the old one's close is emitted.
    paced.connect({}, () => {});
    expect(fake.started).toHaveLength(2);
    fake.close(0);
    expect(fake.started.map((s) => s.at)).toEqual([0, 0, 10]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('cancel fails the connects still waiting, and only those', async () => {
    const fake = fakeConnector();
    const paced = pacedConnector(fake.connector, new SocketPacer({ perSecond: 1, random: () => 0 }));
    const errors: (Error | null)[] = [];
    for (let i = 0; i < 3; i++) paced.connect({}, (e) => errors.push(e));
    paced.cancel(new Error('closed'));
    expect(errors.map((e) => e?.message)).toEqual(['closed']);
    await vi.advanceTimersByTimeAsync(5000);
    expect(fake.started).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });
});
