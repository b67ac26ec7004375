import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../src/index.js';
import { rawConnect, record as recordSocket } from './helpers/raw.js';

const record = (socket: Socket) => ({ socket, ...recordSocket(socket) });

// The proxy's traffic shaping — latency with jitter and one direction, fragments and bandwidth, a slow close —
// against an echo server in this process, so both ends of each chunk are seen: when the client wrote it, when
// the server read it (and in how many pieces), when the client read the echo.

interface Echo {
  server: Server;
  port: number;
  /** `performance.now()` at which the server read each message (by its number). */
  readAt: Map<number, number>;
  /** Sizes of the chunks the server read, in order. */
  chunks: number[];
}

async function startEcho(): Promise<Echo> {
  const readAt = new Map<number, number>();
  const chunks: number[] = [];
  const server = createServer((socket: Socket) => {
    let seen = '';
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk.length);
      // "bye" makes the server close the connection (a FIN), as an idle timeout or a kill does.
      if (chunk.toString().includes('bye')) return void socket.end();
      seen += chunk.toString();
      for (const m of seen.matchAll(/<(\d+)>/g))
        if (!readAt.has(Number(m[1]))) readAt.set(Number(m[1]), performance.now());
      socket.write(chunk);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('echo server has no port');
  return { server, port: address.port, readAt, chunks };
}

/** Writes messages `<0>`…`<n-1>` `gapMs` apart and collects when each echo came back. */
async function exchange(port: number, n: number, gapMs: number) {
  const socket = await rawConnect(port);
  let text = '';
  const sentAt = new Map<number, number>();
  const backAt = new Map<number, number>();
  socket.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    // Matched in all that came back so far: a message may arrive in pieces.
    for (const m of text.matchAll(/<(\d+)>/g))
      if (!backAt.has(Number(m[1]))) backAt.set(Number(m[1]), performance.now());
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

describe('fault proxy throttle and slow close', () => {
  let echo: Echo | undefined;
  let proxy: FaultProxy | undefined;
  afterEach(async () => {
    await proxy?.close();
    await new Promise((r) => echo?.server.close(r));
    proxy = undefined;
    echo = undefined;
  });

  it('throttle: 1-byte pieces at 1000 bytes/s reach the server apart, in order; throttle({}) lifts it', async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
    proxy.throttle({ chunkBytes: 1, bytesPerSecond: 1000 }, 'toServer');
    const t0 = performance.now();
    const { text, backAt } = await exchange(proxy.port, 3, 0);
    expect(text).toBe('<0><1><2>');
    // 9 bytes at 1 byte/ms: the last one left ≥ 9 ms after the first was written.
    expect(backAt.get(2)! - t0).toBeGreaterThanOrEqual(8);
    // Read in pieces, not as the 3 writes (pieces due at the same timer tick may be read together).
    expect(echo.chunks.length).toBeGreaterThanOrEqual(5);
    echo.chunks.length = 0;
    proxy.throttle({});
    await exchange(proxy.port, 1, 0);
    expect(echo.chunks).toEqual([3]);
    expect(() => proxy!.throttle({ chunkBytes: 0 })).toThrow(/chunkBytes must be a number > 0/);
  });

  it("closeDelay: the server's FIN reaches the client late, and a write meanwhile is answered with an RST", async () => {
    echo = await startEcho();
    proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: echo.port } });
    proxy.closeDelay(400);
    const quiet = record(await rawConnect(proxy.port));
    const talker = await rawConnect(proxy.port);
    const talk = record(talker);
    const t0 = performance.now();
    for (const s of [quiet.socket, talker]) s.write('bye');
    await new Promise((r) => setTimeout(r, 150));
    expect(quiet.ended()).toBeUndefined(); // closed by the server 150 ms ago, still open to the client
    talker.write('<7>');
    expect(await talk.waitEnd(1000)).toBe('ECONNRESET');
    expect(echo.readAt.has(7)).toBe(false); // it never reached the server
    expect(await quiet.waitEnd(2000)).toBe('closed'); // a FIN, not an RST
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
  });
});
