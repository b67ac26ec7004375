// The root README's quick start as a program: `node app.js` in this directory (after `npm run build`).
// Connects the targets of ./reconnect.config.yaml, runs a read and a write through the policy, serves
// /healthz and /readyz, prints what it saw, and stops cleanly (the process exits by itself).
import http from 'node:http';
import { createManager } from '@reconnect/core';

// `logger: console` logs state changes and failed reconnect attempts (on the backoff schedule), secrets redacted.
const manager = await createManager({ logger: console });
// Resolves per name within reconnect.startTimeout (5 s by default); a target that is down keeps reconnecting.
const started = await manager.startAll();
for (const [name, result] of Object.entries(started)) {
  console.log(`start ${name}: ${result.ok ? 'connected' : `failed: ${result.error.message}`}`);
}
if (!started.cache.ok) {
  // A service would keep running and answer /readyz with 503 until the target connects; this demo stops.
  await manager.stopAll();
  process.exit(1);
}

const cache = manager.target('cache');

const key = `reconnect:quickstart:${process.pid}`;
await cache.execute((redis) => redis.set(key, 'hello', 'EX', 60), { idempotent: true, name: 'SET' });
const value = await cache.execute((redis) => redis.get(key), { idempotent: true, name: 'GET' });
console.log(`GET ${key} → ${value}`);
// Not idempotent: retried only if the failure proves it never reached Redis.
const hits = await cache.execute((redis) => redis.incr(`${key}:hits`), { name: 'INCR' });
console.log(`INCR → ${hits}`);
await cache.execute((redis) => redis.del(key, `${key}:hits`), { idempotent: true, name: 'DEL' });

const server = http.createServer(manager.healthHandler());
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
console.log(`/readyz → ${ready.status} ${JSON.stringify((await ready.json()).status)}`);
await new Promise((resolve) => server.close(resolve));

await manager.stopAll();
console.log('stopped');
