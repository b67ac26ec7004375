import { both, killClients, needProxy, repeating, withAdmin, type CatalogueFault } from './fault.js';

/** Faults of the process and of the network between client and server (the latter through the fault proxy). */
export const networkFaults: readonly CatalogueFault[] = [
  {
    name: 'crash',
    group: 'process',
    title: 'crash (SIGKILL) + restart',
    description: 'The server process is killed (SIGKILL) and started again on the same port with its data.',
    stores: both,
    viaProxy: false,
    async start(env) {
      await env.server.kill();
      return { heal: () => env.server.restart() };
    },
  },
  {
    name: 'hang',
    group: 'process',
    title: 'hang (SIGSTOP) + resume',
    description:
      'The server process is stopped (SIGSTOP): it keeps its sockets and answers nothing, then SIGCONT.',
    stores: both,
    viaProxy: false,
    async start(env) {
      await env.server.hang();
      return { heal: () => env.server.resume() };
    },
  },
  {
    name: 'half-open',
    group: 'network',
    title: 'half-open (peer gone, no RST)',
    description:
      'The network drops everything both ways on open and new connections, no FIN and no RST (a dead peer behind a NAT or a partition).',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'half-open');
      p.blackhole();
      return Promise.resolve({ heal: () => p.pass() });
    },
  },
  {
    name: 'reset',
    group: 'network',
    title: 'connection reset, repeated',
    description: 'Every open connection is reset (RST both ways) every 500 ms, replies in flight cut.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'reset');
      return repeating(500, () => p.reset());
    },
  },
  {
    name: 'reply-lost',
    group: 'network',
    title: 'one-way loss (reply lost)',
    description:
      'Every 500 ms each open connection loses its next reply and is cut: the request arrived and applied, the client never hears.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'reply-lost');
      return repeating(500, () => p.cutAfter(0, 'toClient'));
    },
  },
  {
    name: 'latency',
    group: 'network',
    title: 'latency both ways, re-drawn',
    description: 'Every chunk either way is delayed by 100–500 ms, re-drawn every 200 ms.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'latency');
      return repeating(
        200,
        () => p.latency(100 + Math.floor(Math.random() * 400)),
        () => p.latency(0),
      );
    },
  },
  {
    name: 'latency-spike',
    group: 'network',
    title: 'latency spike with jitter, replies only',
    description:
      'Replies (server → client) are delayed by 200 ms plus a fresh 0–800 ms of jitter per chunk, kept in order, on open and new connections; requests reach the server at once (a congested return path).',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'latency-spike');
      p.latency(200, 'toClient', { jitterMs: 800 });
      return Promise.resolve({ heal: () => Promise.resolve(p.latency(0, 'toClient')) });
    },
  },
  {
    name: 'reset-mid-reply',
    group: 'network',
    title: 'connection reset mid-reply',
    description:
      'Every 500 ms each open connection passes the first byte of its next reply, then is reset: the request applied, the client has a torn reply and an RST.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'reset-mid-reply');
      return repeating(500, () => p.cutAfter(1, 'toClient'));
    },
  },
  {
    name: 'fragments',
    group: 'network',
    title: '1-byte fragments at 2 KB/s',
    description:
      'Both ways, every chunk is forwarded one byte at a time at 2000 bytes/s at most (a slow, fragmenting link): replies arrive split anywhere and late.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'fragments');
      p.throttle({ chunkBytes: 1, bytesPerSecond: 2000 });
      return Promise.resolve({ heal: () => Promise.resolve(p.throttle({})) });
    },
  },
  {
    name: 'slow-close',
    group: 'network',
    title: 'slow close (FIN 1 s late)',
    description:
      'The server closes every client connection every second (`CLIENT KILL`, `KILL CONNECTION`) and its FIN reaches the client 1 s late: meanwhile the connection looks open, and a request sent on it meets an RST without reaching the server.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'slow-close');
      p.closeDelay(1000);
      return withAdmin(env, (a) =>
        repeating(
          1000,
          () => killClients(env, a),
          () => p.closeDelay(0),
        ),
      );
    },
  },
  {
    name: 'flapping',
    group: 'network',
    title: 'flapping (down/up every 300 ms)',
    description: 'The server refuses connections and resets open ones, then passes again, every 300 ms.',
    stores: both,
    viaProxy: true,
    start(env) {
      const p = needProxy(env, 'flapping');
      let down = false;
      return repeating(
        300,
        async () => {
          down = !down;
          if (down) await p.refuse();
          else await p.pass();
        },
        () => p.pass(),
      );
    },
  },
];
