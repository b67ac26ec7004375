import type { Command, Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConnectionReplacedError, WaitLine } from './wait-line.js';

// A connection whose WAITs answer when the test says: what it was sent, and the socket it is on.
function fakeConnection() {
  const sent: { args: unknown[]; answer: (n: number) => void; fail: (e: Error) => void }[] = [];
  const client = {
    stream: { id: 1 } as unknown,
    sendCommand(command: Command) {
      return new Promise((resolve, reject) => {
        sent.push({ args: command.args, answer: resolve, fail: reject });
      });
    },
  };
  return { client, sent, line: new WaitLine(client as unknown as Redis, 1, 500) };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WaitLine (one WAIT in flight per connection)', () => {
  it('sends WAIT at once when none blocks; writes behind a blocking one share the next, sent when it answers', async () => {
    const { sent, line } = fakeConnection();
    const first = line.confirm(Infinity);
    expect(sent.map((s) => s.args)).toEqual([['1', '500']]);
    const behind = [line.confirm(Infinity), line.confirm(Infinity), line.confirm(Infinity)];
    await tick();
    expect(sent).toHaveLength(1); // nothing stacked behind the blocking WAIT
    sent[0]!.answer(0);
    expect(await first).toEqual({ acknowledged: 0, timeoutMs: 500 });
    await tick();
    expect(sent).toHaveLength(2);
    sent[1]!.answer(1);
    expect(await Promise.all(behind)).toEqual([
      { acknowledged: 1, timeoutMs: 500 },
      { acknowledged: 1, timeoutMs: 500 },
      { acknowledged: 1, timeoutMs: 500 },
    ]);
  });

  it("gives WAIT the least time left of the writes it confirms, at least 1 ms (WAIT's 0 is for ever)", async () => {
    const { sent, line } = fakeConnection();
    void line.confirm(performance.now() + 120.9).catch(() => undefined);
    expect(Number(sent[0]!.args[1])).toBeLessThanOrEqual(120);
    expect(Number(sent[0]!.args[1])).toBeGreaterThan(100);
    void line.confirm(performance.now() + 10_000).catch(() => undefined);
    void line.confirm(performance.now() - 5).catch(() => undefined);
    sent[0]!.answer(1);
    await tick();
    expect(sent[1]!.args).toEqual(['1', '1']);
  });

  it('fails the writes whose connection was replaced before their WAIT went out, and a failed WAIT fails its writes', async () => {
    const { client, sent, line } = fakeConnection();
    const first = line.confirm(Infinity);
    const queued = line.confirm(Infinity);
    client.stream = { id: 2 }; // a reconnect: a WAIT on the new socket would not cover the queued write
    const afterReconnect = line.confirm(Infinity);
    await expect(queued).rejects.toBeInstanceOf(ConnectionReplacedError);
    sent[0]!.fail(new Error('Connection is closed.'));
    await expect(first).rejects.toThrow('Connection is closed.');
    await tick();
    expect(sent).toHaveLength(2); // the write made on the new socket gets its WAIT there
    sent[1]!.answer(1);
    expect(await afterReconnect).toEqual({ acknowledged: 1, timeoutMs: 500 });
  });
});
