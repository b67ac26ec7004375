import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { mysqlGreeting, postgresReady, redisPing } from './probes.js';

// Fake servers that answer with canned bytes: the parsers must tell ready from not ready.
let server: Server | undefined;
afterEach(() => {
  server?.close();
  server = undefined;
});

function serve(
  onConnect: (write: (b: Buffer | string) => void) => void,
  onData?: (d: Buffer, write: (b: Buffer | string) => void) => void,
): Promise<number> {
  server = createServer((socket) => {
    socket.on('error', () => undefined);
    const write = (b: Buffer | string): void => void socket.write(b);
    onConnect(write);
    if (onData) socket.on('data', (d: Buffer) => onData(d, write));
  });
  return new Promise((resolve) =>
    server!.listen(0, '127.0.0.1', () => resolve((server!.address() as { port: number }).port)),
  );
}

const packet = (payload: Buffer): Buffer => {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
};

const pgMessage = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

describe('probes', () => {
  it('redisPing: +PONG is ready, -LOADING is not, AUTH comes first with a password', async () => {
    let reply = '+PONG\r\n';
    const port = await serve(
      () => undefined,
      (_d, write) => write(reply),
    );
    expect(await redisPing('127.0.0.1', port)).toEqual({ ready: true });
    reply = '-LOADING Redis is loading the dataset in memory\r\n';
    expect(await redisPing('127.0.0.1', port)).toEqual({
      ready: false,
      reason: '-LOADING Redis is loading the dataset in memory',
    });
    reply = '-WRONGPASS invalid\r\n-NOAUTH\r\n';
    expect(await redisPing('127.0.0.1', port, 500, 'pw')).toEqual({ ready: false, reason: 'WRONGPASS' });
  });

  it('mysqlGreeting: protocol 10 is ready, an ERR packet is not', async () => {
    let greeting: Buffer = packet(Buffer.from([0x0a, ...Buffer.from('10.11.0-MariaDB\0')]));
    const port = await serve((write) => write(greeting));
    expect(await mysqlGreeting('127.0.0.1', port)).toEqual({ ready: true });
    greeting = packet(
      Buffer.concat([Buffer.from([0xff, 0x10, 0x04]), Buffer.from('#08004Too many connections')]),
    );
    expect(await mysqlGreeting('127.0.0.1', port)).toEqual({ ready: false, reason: 'Too many connections' });
  });

  it('postgresReady: ReadyForQuery is ready; "starting up" is not', async () => {
    let answer: Buffer = Buffer.concat([
      pgMessage('R', Buffer.from([0, 0, 0, 0])),
      pgMessage('Z', Buffer.from('I')),
    ]);
    const port = await serve(
      () => undefined,
      (_d, write) => write(answer),
    );
    expect(await postgresReady('127.0.0.1', port)).toEqual({ ready: true });
    answer = pgMessage('E', Buffer.from('SFATAL\0C57P03\0Mthe database system is starting up\0\0'));
    expect(await postgresReady('127.0.0.1', port)).toEqual({
      ready: false,
      reason: 'the database system is starting up',
    });
  });

  it('every probe is bounded: a silent server is "no answer"', async () => {
    const port = await serve(() => undefined);
    expect(await redisPing('127.0.0.1', port, 100)).toEqual({ ready: false, reason: 'no answer in 100 ms' });
  });
});
