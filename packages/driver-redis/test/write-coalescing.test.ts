import { createTarget, type Target } from '@reconnect/core';
import { makeTestCertificates, startRedis, useServer } from '@reconnect/testkit';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';
import { preset, startTarget } from './target-helpers.js';

// Commands that operations send in the same turn of the event loop share one write to the socket (attempt-client.ts,
// coalesceWrites): the first goes out at once, the ones sent while it awaits its reply are corked and handed to the
// kernel together at the end of the turn. What the tests pin: fewer system calls than commands, every reply to its
// own command in order, and no delay for a command sent alone.

/** Counts the socket's writes to the kernel: `_write` (one chunk) and `_writev` (the chunks of a corked turn). */
function countWrites(socket: Socket): { single: number; batched: number[] } {
  const counts = { single: 0, batched: [] as number[] };
  const s = socket as unknown as Record<string, (...args: unknown[]) => unknown>;
  const write = s._write!.bind(socket);
  const writev = s._writev!.bind(socket);
  s._write = (...args: unknown[]) => {
    counts.single++;
    return write(...args);
  };
  s._writev = (chunks: unknown, ...rest: unknown[]) => {
    counts.batched.push((chunks as unknown[]).length);
    return writev(chunks, ...rest);
  };
  return counts;
}

/** The target's connection (the client an operation receives inherits the client's `stream`). */
async function socketOf(target: Target<RedisClient>): Promise<Socket> {
  return target.execute((redis) => (redis as unknown as { stream: Socket }).stream, { idempotent: true });
}

describe('commands sent in one turn share a write (a throwaway redis-server)', () => {
  const server = useServer(() => startRedis());

  it('64 concurrent operations: two writes to the kernel, every reply its own command’s, in order', async () => {
    const target = await startTarget(server().port, preset('redis'));
    try {
      const socket = await socketOf(target);
      const writes = countWrites(socket);
      // INCR of one key: the replies 1..64 say the commands reached the server in the order they were issued.
      const replies = await Promise.all(
        Array.from({ length: 64 }, () => target.execute((redis) => redis.incr('coalesce:n'))),
      );
      expect(replies).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
      // The first command went out alone (nothing awaited a reply yet); the 63 sent behind it in the same turn, in one.
      expect(writes).toEqual({ single: 1, batched: [63] });
    } finally {
      await target.stop();
    }
  });

  it('a command sent alone is written at once, within the call, not at the end of the turn', async () => {
    const target = await startTarget(server().port, preset('redis'));
    try {
      const socket = await socketOf(target);
      const writes = countWrites(socket);
      const reply = target.execute((redis) => redis.get('coalesce:absent'), { idempotent: true });
      // Synchronously after execute(): the connected target ran the operation and its command is on the socket.
      expect(writes).toEqual({ single: 1, batched: [] });
      expect(socket.writableCorked).toBe(0);
      expect(await reply).toBeNull();
    } finally {
      await target.stop();
    }
  });

  it('operations in successive turns are not held back: each turn’s commands are written by its end', async () => {
    const target = await startTarget(server().port, preset('redis'));
    try {
      const socket = await socketOf(target);
      const writes = countWrites(socket);
      for (let round = 1; round <= 3; round++) {
        const replies = await Promise.all(
          Array.from({ length: 8 }, () => target.execute((redis) => redis.incr('coalesce:turns'))),
        );
        expect(replies).toEqual(Array.from({ length: 8 }, (_, i) => (round - 1) * 8 + i + 1));
        expect(socket.writableCorked).toBe(0);
      }
      expect(writes).toEqual({ single: 3, batched: [7, 7, 7] });
    } finally {
      await target.stop();
    }
  });
});

describe('commands sent in one turn share a write over TLS (a throwaway redis-server with a TLS port)', () => {
  const certificates = makeTestCertificates();
  const server = useServer(() => startRedis({ tls: certificates }));
  afterAll(() => certificates.remove());

  it('64 concurrent operations through the TLS socket: fewer writes than commands, every reply in order', async () => {
    const { host, tls } = server();
    const target = createTarget({
      name: 'tls-cache',
      driver: redisDriver,
      options: redisOptionsSchema.parse({ host, port: tls!.port, tls: { ca: certificates.ca } }),
      policy: preset('redis'),
    });
    await target.start();
    try {
      const socket = await socketOf(target);
      const writes = countWrites(socket);
      const replies = await Promise.all(
        Array.from({ length: 64 }, () => target.execute((redis) => redis.incr('coalesce:tls'))),
      );
      expect(replies).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
      expect(writes).toEqual({ single: 1, batched: [63] });
    } finally {
      await target.stop();
    }
  });
});
