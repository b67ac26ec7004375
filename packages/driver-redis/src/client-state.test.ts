import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { RedisClient } from './client.js';
import { reconnectClient, stateOf, track, watchClient } from './client-state.js';
import { isRedisDriverError } from './errors.js';

// Just enough of an ioredis client: a status, events, connect(), a stream, and the private timer field.
class FakeClient extends EventEmitter {
  status = 'ready';
  isCluster = false;
  reconnectTimeout: ReturnType<typeof setTimeout> | null = null;
  stream = { destroy: vi.fn() };
  connect = vi.fn(() => Promise.resolve());
  set(status: string, ...events: string[]) {
    this.status = status;
    for (const e of events.length === 0 ? [status] : events) this.emit(e);
  }
}
const fake = () => {
  const c = new FakeClient();
  track(c as unknown as RedisClient);
  return c;
};
const monitor = () => ({ up: vi.fn(), down: vi.fn() });

describe('watchClient', () => {
  it('reports each change once: close and end after a loss are one down, ready is one up', () => {
    const c = fake();
    const m = monitor();
    watchClient(c as unknown as RedisClient, m);
    c.emit('error', new Error('read ECONNRESET'));
    c.set('close');
    c.set('reconnecting');
    c.set('close');
    c.set('end');
    expect(m.down).toHaveBeenCalledTimes(1);
    expect((m.down.mock.calls[0]?.[0] as Error).message).toBe('read ECONNRESET');
    c.set('ready');
    c.set('ready');
    expect(m.up).toHaveBeenCalledTimes(1);
  });

  it('reports down at once when the client dropped before the subscription', () => {
    const c = fake();
    c.status = 'reconnecting';
    const m = monitor();
    watchClient(c as unknown as RedisClient, m);
    expect(m.down).toHaveBeenCalledTimes(1);
    // No error event said why: the driver's own error, with its code.
    const reason: unknown = m.down.mock.calls[0]?.[0];
    expect(isRedisDriverError(reason)).toBe(true);
    expect(reason).toMatchObject({ name: 'RedisDriverError', code: 'CONNECTION_CLOSED' });
  });

  it('says nothing about a close the driver itself made', () => {
    const c = fake();
    const m = monitor();
    watchClient(c as unknown as RedisClient, m);
    stateOf(c as unknown as RedisClient).closing = true;
    c.set('end', 'close', 'end');
    expect(m.down).not.toHaveBeenCalled();
  });
});

describe('reconnectClient', () => {
  it('from reconnecting: cancels the pending backoff timer and connects now', () => {
    const c = fake();
    const fired = vi.fn();
    c.reconnectTimeout = setTimeout(fired, 10_000);
    c.status = 'reconnecting';
    reconnectClient(c as unknown as RedisClient);
    expect(c.reconnectTimeout).toBeNull();
    expect(c.connect).toHaveBeenCalledTimes(1);
  });

  it('while connecting: nothing (an attempt is running)', () => {
    const c = fake();
    c.status = 'connecting';
    reconnectClient(c as unknown as RedisClient);
    expect(c.connect).not.toHaveBeenCalled();
    expect(c.stream.destroy).not.toHaveBeenCalled();
  });

  it('ready but reported up to a lifecycle that still asks (a hang): drops the socket', () => {
    const c = fake();
    watchClient(c as unknown as RedisClient, monitor());
    reconnectClient(c as unknown as RedisClient);
    expect(c.stream.destroy).toHaveBeenCalledTimes(1);
  });

  it('ready but not yet reported up (the ready event is still on its way): leaves it alone', () => {
    const c = fake();
    reconnectClient(c as unknown as RedisClient);
    expect(c.stream.destroy).not.toHaveBeenCalled();
  });

  it('never after the driver closed the client', () => {
    const c = fake();
    stateOf(c as unknown as RedisClient).closing = true;
    c.status = 'end';
    reconnectClient(c as unknown as RedisClient);
    expect(c.connect).not.toHaveBeenCalled();
  });
});

describe('unwatch', () => {
  it('hands a waiting client back to its own strategy, but not when a close follows', async () => {
    const a = fake();
    const unwatchA = watchClient(a as unknown as RedisClient, monitor());
    a.status = 'reconnecting';
    unwatchA();
    await new Promise((r) => setImmediate(r));
    expect(a.connect).toHaveBeenCalledTimes(1);

    const b = fake();
    const unwatchB = watchClient(b as unknown as RedisClient, monitor());
    b.status = 'reconnecting';
    unwatchB();
    stateOf(b as unknown as RedisClient).closing = true;
    await new Promise((r) => setImmediate(r));
    expect(b.connect).not.toHaveBeenCalled();
  });
});
