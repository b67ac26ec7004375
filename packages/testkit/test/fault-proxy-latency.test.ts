import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../src/index.js';
import { rawConnect } from './helpers/raw.js';

// The proxy's latency with jitter and one direction, against an echo server in this process, so both ends of
// each chunk are timestamped: when the client wrote it, when the server read it, when the client read the echo.

interface Echo {
  server: Server;
  port: number;
  /** `performance.now()` at which the server read each message (by its number). */
  readAt: Map<number, number>;
}

async function startEcho(): Promise<Echo> {
  const readAt = new Map<number, number>();
  const server = createServer((socket: Socket) => {
    socket.on('data', (chunk: Buffer) => {
      for (const m of chunk.toString().matchAll(/<(\d+)>/g)) readAt.set(Number(m[1]), performance.now());
      socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('echo server has no port');
  return { server, port: address.port, readAt };
}

/** Writes messages `<0>`…`<n-1>` `gapMs` apart and collects when each echo came back. */
async function exchange(port: number, n: number, gapMs: number) {
  const socket = await rawConnect(port);
  let text = '';
  const sentAt = new Map<number, number>();
  const backAt = new Map<number, number>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const m of chunk.toString().matchAll(/<(\d+)>/g)) backAt.set(Number(m[1]), performance.now());
  });
  for (let i = 0; i < n; i++) {
    sentAt.set(i, performance.now());
    socket.write(`<${i}>`);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  const deadline = performance.now() + 5000;
  while (backAt.size < n && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  socket.destroy();
  return { text, sentAt, backAt };
}

describe('fault proxy latency: jitter and one direction', () => {
  let echo: Echo | undefined;
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await new Promise((r) => echo?.server.close(r));
    proxy = undefined;
    echo = undefined;
  });

  it('jitter: each chunk waits its own draw, and a short draw never overtakes a long one ahead of it', async () => {
    echo = await startEcho();
    // Long, short, long, short…: without the order rule every short draw would arrive before the long one ahead.
    let draw = 0;
    proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: echo.port },
      random: () => (draw++ % 2 === 0 ? 0.99 : 0),
    });
    proxy.latency(50, 'toClient', { jitterMs: 300 });
    const n = 12;
    const { text, sentAt, backAt } = await exchange(proxy.port, n, 15);
    expect(text).toBe(Array.from({ length: n }, (_, i) => `<${i}>`).join(''));
    expect(draw).toBeGreaterThanOrEqual(2); // jitter was drawn per chunk
    const order = [...backAt.keys()];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // The first message drew the long delay: ≥ 50 + 297 ms back; the requests were not delayed.
    expect(backAt.get(0)! - sentAt.get(0)!).toBeGreaterThanOrEqual(340);
    expect(echo.readAt.get(0)! - sentAt.get(0)!).toBeLessThan(100);
    // Every echo came back at least the base delay after it was read.
    for (let i = 0; i < n; i++)
      expect(backAt.get(i)! - echo.readAt.get(i)!, `<${i}>`).toBeGreaterThanOrEqual(45);
  });

  it('one direction: toServer delays requests only; latency(0) removes delay and jitter', async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
    proxy.latency(200, 'toServer', { jitterMs: 50 });
    const slow = await exchange(proxy.port, 3, 10);
    for (let i = 0; i < 3; i++) {
      expect(echo.readAt.get(i)! - slow.sentAt.get(i)!, `<${i}> to the server`).toBeGreaterThanOrEqual(195);
      expect(slow.backAt.get(i)! - echo.readAt.get(i)!, `<${i}> back`).toBeLessThan(100);
    }
    echo.readAt.clear();
    proxy.latency(0);
    const fast = await exchange(proxy.port, 3, 10);
    for (let i = 0; i < 3; i++) expect(fast.backAt.get(i)! - fast.sentAt.get(i)!).toBeLessThan(100);
    expect(() => proxy!.latency(-1)).toThrow(/delays must be ≥ 0/);
  });
});
