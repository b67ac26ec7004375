import { connect, type Socket } from 'node:net';

// Protocol-level readiness checks with no client library: each opens one socket, reads just enough
// of the server's protocol to know it serves requests, and closes. Every check is bounded by `timeoutMs`.

/** The result of one readiness probe: ready, or why not. */
export type ProbeResult = { ready: true } | { ready: false; reason: string };

type Step = (data: Buffer) => ProbeResult | undefined;

function probe(
  host: string,
  port: number,
  timeoutMs: number,
  greet: Buffer | undefined,
  step: Step,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let buffer = Buffer.alloc(0);
    const socket: Socket = connect({ host, port });
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ready: false, reason: `no answer in ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('connect', () => {
      if (greet !== undefined) socket.write(greet);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      const result = step(buffer);
      if (result !== undefined) finish(result);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      finish({ ready: false, reason: error.code ?? error.message }),
    );
    socket.once('close', () => finish({ ready: false, reason: 'connection closed' }));
  });
}

/** Opens and closes a TCP connection: true when something accepts on host:port. */
export async function canConnect(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Redis: `PING` answered with `+PONG` (a `-LOADING` error means not ready yet); with `password`, `AUTH` first. */
export function redisPing(
  host: string,
  port: number,
  timeoutMs = 500,
  password?: string,
): Promise<ProbeResult> {
  const auth = password === undefined ? '' : `AUTH ${password}\r\n`;
  const expected = password === undefined ? ['+PONG'] : ['+OK', '+PONG'];
  return probe(host, port, timeoutMs, Buffer.from(`${auth}PING\r\n`), (data) => {
    const lines = data.toString('latin1').split('\r\n');
    for (let i = 0; i < expected.length; i++) {
      const line = lines[i];
      if (line === undefined || i === lines.length - 1) return undefined; // not complete yet
      if (line !== expected[i])
        return { ready: false, reason: line.startsWith('-WRONGPASS') ? 'WRONGPASS' : line };
    }
    return { ready: true };
  });
}

/** MySQL/MariaDB: the server's initial handshake packet (protocol 10); an ERR packet means not ready. */
export function mysqlGreeting(host: string, port: number, timeoutMs = 500): Promise<ProbeResult> {
  return probe(host, port, timeoutMs, undefined, (data) => {
    if (data.length < 5) return undefined;
    const length = data.readUIntLE(0, 3);
    if (data.length < 4 + length) return undefined;
    const first = data[4];
    if (first === 0x0a) return { ready: true };
    if (first === 0xff) return { ready: false, reason: data.subarray(13, 4 + length).toString('utf8') };
    return { ready: false, reason: `unexpected greeting byte 0x${(first ?? 0).toString(16)}` };
  });
}

/**
 * PostgreSQL: a StartupMessage (protocol 3.0) for `user`/`database`, answered up to ReadyForQuery.
 * Needs `trust` authentication (as the throwaway servers use); "the database system is starting up" is not ready.
 */
export function postgresReady(
  host: string,
  port: number,
  {
    user = 'postgres',
    database = 'postgres',
    timeoutMs = 500,
  }: { user?: string; database?: string; timeoutMs?: number } = {},
): Promise<ProbeResult> {
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
  const startup = Buffer.alloc(8 + params.length);
  startup.writeInt32BE(startup.length, 0);
  startup.writeInt32BE(196608, 4);
  params.copy(startup, 8);
  return probe(host, port, timeoutMs, startup, (data) => {
    let offset = 0;
    while (data.length >= offset + 5) {
      const type = String.fromCharCode(data[offset] ?? 0);
      const length = data.readInt32BE(offset + 1);
      if (data.length < offset + 1 + length) return undefined;
      const body = data.subarray(offset + 5, offset + 1 + length);
      if (type === 'Z') return { ready: true };
      if (type === 'E') {
        const message = body
          .toString('utf8')
          .split('\0')
          .find((field) => field.startsWith('M'));
        return { ready: false, reason: message?.slice(1) ?? 'error response' };
      }
      if (type === 'R' && body.readInt32BE(0) !== 0)
        return { ready: false, reason: 'server asks for a password' };
      offset += 1 + length;
    }
    return undefined;
  });
}
