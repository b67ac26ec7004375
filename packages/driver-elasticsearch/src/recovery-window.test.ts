import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { pacedConnector, SocketPacer, type ConnectCallback } from './connect-pacer.js';
import {
  defaultRecoveryConnectRate,
  defaultRecoverySettleMs,
  isConnectionLoss,
  RecoveryWindow,
  recoveryWindowFor,
} from './recovery-window.js';

// Issue 26: a node's client paces its new sockets by default only while the node recovers (from a failed connect or
// its last socket lost, until connects have succeeded for a settle period). The window on a clock the test moves;
// the connector under vitest's fake timers.

function windowOn(settleMs: number) {
  let now = 1_000_000;
  const w = new RecoveryWindow({ settleMs, now: () => now });
  return {
    w,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('RecoveryWindow', () => {
  it('defaults: 5 sockets a second while recovering, settled after 5 s', () => {
    expect(defaultRecoveryConnectRate).toBe(5);
    expect(defaultRecoverySettleMs).toBe(5000);
  });

  it('inactive until a loss; a success alone does not start it', () => {
    const { w } = windowOn(1000);
    expect(w.active()).toBe(false);
    w.connected();
    expect(w.active()).toBe(false);
  });

  it('active from a loss, through failures, until settleMs after the first success since the last failure', () => {
    const { w, advance } = windowOn(1000);
    w.lost();
    expect(w.active()).toBe(true);
    // No success yet: active however long the node stays down.
    advance(60_000);
    expect(w.active()).toBe(true);
    w.connected();
    advance(999);
    w.connected(); // a later success does not restart the settle period
    expect(w.active()).toBe(true);
    advance(1);
    expect(w.active()).toBe(false);
    // Settled: a success keeps it inactive.
    w.connected();
    advance(10);
    expect(w.active()).toBe(false);
  });

  it('a failure while settling starts the settle period over', () => {
    const { w, advance } = windowOn(1000);
    w.lost();
    w.connected();
    advance(800);
    w.lost();
    advance(800);
    expect(w.active()).toBe(true);
    w.connected();
    advance(999);
    expect(w.active()).toBe(true);
    advance(1);
    expect(w.active()).toBe(false);
  });

  it('connection losses are resets, broken pipes, unreachable hosts and undici "other side closed"', () => {
    for (const code of ['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'UND_ERR_SOCKET'])
      expect(isConnectionLoss(Object.assign(new Error(code), { code })), code).toBe(true);
    // A request cut by its caller or its timeout, undici's idle close, no error at all: not a loss.
    for (const code of ['UND_ERR_ABORTED', 'UND_ERR_INFO', 'UND_ERR_HEADERS_TIMEOUT'])
      expect(isConnectionLoss(Object.assign(new Error(code), { code })), code).toBe(false);
    expect(isConnectionLoss(undefined)).toBe(false);
  });

  it('one window per target and node, shared by that node’s successive clients', () => {
    const options = {};
    const a = recoveryWindowFor(options, 'search', 'http://a:1', 1000);
    expect(recoveryWindowFor(options, 'search', 'http://a:1', 1000)).toBe(a);
    expect(recoveryWindowFor(options, 'search', 'http://b:1', 1000)).not.toBe(a);
    expect(recoveryWindowFor(options, 'logs', 'http://a:1', 1000)).not.toBe(a);
    expect(recoveryWindowFor({}, 'search', 'http://a:1', 1000)).not.toBe(a);
  });
});

/** A fake undici connector: records when each connect started; `open(i)` / `fail(i)` / `close(i)` answer it. */
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
      started[i]!.callback(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), null);
    },
    /** The socket closes, after an error with `code` if given. */
    close(i: number, code?: string) {
      const socket = started[i]!.socket;
      if (code !== undefined) socket.emit('error', Object.assign(new Error(code), { code }));
      socket.emit('close', code !== undefined);
    },
  };
}

describe('pacedConnector with a recovery window', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(perSecond = 4, settleMs = 1000) {
    const fake = fakeConnector();
    const recovery = new RecoveryWindow({ settleMs, now: () => Date.now() });
    const paced = pacedConnector(fake.connector, new SocketPacer({ perSecond, random: () => 0 }), recovery);
    return { fake, recovery, paced };
  }

  it('a healthy node: a burst of connects all start at once (no pacing)', () => {
    const { fake, paced } = setup();
    for (let i = 0; i < 8; i++) paced.connect({}, () => {});
    expect(fake.started.map((s) => s.at)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(paced.held()).toBe(0);
  });

  it('after a refused connect, the next burst is paced: two at once, then one a gap (250 ms) after another', async () => {
    const { fake, paced, recovery } = setup();
    paced.connect({}, () => {});
    fake.fail(0);
    expect(recovery.active()).toBe(true);
    await vi.advanceTimersByTimeAsync(100);
    for (let i = 0; i < 5; i++) paced.connect({}, () => {});
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.started.map((s) => s.at)).toEqual([0, 100, 100, 350, 600, 850]);
    expect(paced.held()).toBe(3);
  });

  it("a connect started inside unpaced() (the driver's own probe) goes at once while recovering", async () => {
    const { fake, paced } = setup();
    paced.connect({}, () => {});
    fake.fail(0);
    for (let i = 0; i < 3; i++) paced.connect({}, () => {});
    expect(fake.started).toHaveLength(3);
    expect(paced.unpaced(() => (paced.connect({}, () => {}), 'probe'))).toBe('probe');
    expect(fake.started).toHaveLength(4);
    // Only inside: the next one waits again.
    paced.connect({}, () => {});
    expect(fake.started).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(1000);
    expect(fake.started).toHaveLength(6);
  });

  it('pacing stops once connects have succeeded for the settle period', async () => {
    const { fake, paced, recovery } = setup(4, 1000);
    paced.connect({}, () => {});
    fake.fail(0);
    paced.connect({}, () => {});
    fake.open(1);
    await vi.advanceTimersByTimeAsync(999);
    expect(recovery.active()).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    for (let i = 0; i < 5; i++) paced.connect({}, () => {});
    expect(fake.started.slice(2).map((s) => s.at)).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('the last socket lost to a connection failure starts recovery; a clean close or one of several does not', () => {
    const { fake, paced, recovery } = setup();
    paced.connect({}, () => {});
    paced.connect({}, () => {});
    fake.open(0);
    fake.open(1);
    // A socket closed cleanly (undici's idle timeout), then one reset while another is open: not a loss.
    fake.close(0);
    expect(recovery.active()).toBe(false);
    paced.connect({}, () => {});
    fake.open(2);
    fake.close(1, 'ECONNRESET');
    expect(recovery.active()).toBe(false);
    // The last one, the node's side closed: recovering.
    fake.close(2, 'UND_ERR_SOCKET');
    expect(recovery.active()).toBe(true);
  });

  it('gated (the pool gate paces): connects are not held here, and still tell the window', () => {
    const fake = fakeConnector();
    const recovery = new RecoveryWindow({ settleMs: 1000, now: () => Date.now() });
    const paced = pacedConnector(
      fake.connector,
      new SocketPacer({ perSecond: 4, random: () => 0 }),
      recovery,
      true,
    );
    paced.connect({}, () => {});
    fake.fail(0);
    expect(recovery.active()).toBe(true);
    for (let i = 0; i < 5; i++) paced.connect({}, () => {});
    expect(fake.started).toHaveLength(6);
    expect(paced.held()).toBe(0);
  });

  it('a cancelled (closing) client reports nothing: its destroyed sockets are no loss', () => {
    const { fake, paced, recovery } = setup();
    paced.connect({}, () => {});
    fake.open(0);
    paced.cancel(new Error('closed'));
    fake.close(0, 'ECONNRESET');
    expect(recovery.active()).toBe(false);
  });
});
