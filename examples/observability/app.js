// A service with one target per store whose metrics a Prometheus server scrapes: `node app.js` in this directory
// (after `npm run build`; addresses from REDIS_URL, MYSQL_URL, ES_NODE_1 and ES_NODE_2, see
// ./reconnect.config.yaml). It registers a MeterProvider read by the OpenTelemetry Prometheus exporter, served on
// 127.0.0.1 (METRICS_PORT, or a free port), starts the targets, then reads and writes through each of them every
// 100 ms until SIGTERM or SIGINT. It prints one line, `metrics http://127.0.0.1:PORT/metrics`, once it serves.
import http from 'node:http';
import { clearInterval, setInterval } from 'node:timers';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createManager } from '@reconnect/core';

// 1. The SDK before any target exists: instruments are made when a target is built (the metrics API has no
// proxy meter). The exporter's own server would listen on 0.0.0.0:9464; this one stays on loopback.
const exporter = new PrometheusExporter({ preventServerStart: true });
const meterProvider = new MeterProvider({ readers: [exporter] });
metrics.setGlobalMeterProvider(meterProvider);
const server = http.createServer((req, res) => exporter.getMetricsRequestHandler(req, res));

// 2. The targets of ./reconnect.config.yaml; one that is down keeps reconnecting (and says so in its metrics).
const manager = await createManager({ cwd: import.meta.dirname });
await manager.startAll();
const cache = manager.target('cache');
const db = manager.target('db');
const search = manager.target('search');
await db
  .execute((pool) => pool.query('CREATE TABLE IF NOT EXISTS hits (n INT NOT NULL)'), { name: 'CREATE TABLE' })
  .catch((error) => console.error(`CREATE TABLE: ${error.code ?? ''} ${error.message}`));
await new Promise((resolve) => server.listen(Number(process.env.METRICS_PORT ?? 0), '127.0.0.1', resolve));
console.log(`metrics http://127.0.0.1:${server.address().port}/metrics`);

// 3. Traffic: per store a read (idempotent: retried) and a write (not idempotent: never repeated after a
// failure that may have reached the server, so a fault shows as reconnect_writes_outcome_unknown_total).
const key = `observability:${process.pid}`;
let n = 0;
const quiet = () => {}; // failures are the point of the example: they are counted, not printed
const tick = setInterval(() => {
  n++;
  void cache.execute((r) => r.get(key), { idempotent: true, name: 'GET' }).catch(quiet);
  void cache.execute((r) => r.incr(key), { name: 'INCR' }).catch(quiet);
  void db
    .execute((p) => p.query('SELECT n FROM hits LIMIT 1'), {
      idempotent: true,
      name: 'SELECT',
      collection: 'hits',
    })
    .catch(quiet);
  void db
    .execute((p) => p.query('INSERT INTO hits (n) VALUES (?)', [n]), { name: 'INSERT', collection: 'hits' })
    .catch(quiet);
  void search
    .execute((c) => c.get({ index: 'products', id: String(n % 10) }), {
      idempotent: true,
      name: 'get',
      collection: 'products',
    })
    .catch(quiet);
  void search
    .execute((c) => c.index({ index: 'products', id: String(n % 10), document: { n } }), {
      idempotent: true,
      name: 'index',
      collection: 'products',
    })
    .catch(quiet);
}, 100);

// 4. A clean stop: no timer, socket or server left behind.
async function stop() {
  clearInterval(tick);
  await manager.stopAll();
  await new Promise((resolve) => server.close(resolve));
  await meterProvider.shutdown();
}
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => void stop());
