import { both, needProxy, repeating, type CatalogueFault } from './fault.js';

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
