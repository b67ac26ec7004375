// A real Prometheus scrapes the example app (a target per store on throwaway servers) and is asked, by PromQL over
// its HTTP API, whether Reconnect's metrics arrive with the right labels before, during and after an injected
// fault (a hung Redis, a killed Elasticsearch node); the alerting rules of alerts.yaml are loaded and the ones the
// fault calls for fire; every query of the Grafana dashboard uses only metric names the scrape returned. Every
// process listens on a free loopback port, has a temporary directory and is stopped afterwards (the testkit's
// servers and cleanup).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startCustomServer,
  startElasticsearchCluster,
  startMariaDB,
  startRedis,
  until,
  useServer,
  type ProbeResult,
  type ServerHandle,
} from '@reconnect/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

const redis = useServer(() => startRedis(), { heal: false });
const mariadb = useServer(() => startMariaDB(), { heal: false });
const cluster = useServer(() => startElasticsearchCluster({ nodes: 2 }), { heal: false });

let app: ServerHandle;
let prometheus: ServerHandle;

async function httpOk(url: string): Promise<ProbeResult> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await r.body?.cancel();
    return r.ok ? { ready: true } : { ready: false, reason: `HTTP ${r.status}` };
  } catch (error) {
    return { ready: false, reason: String(error) };
  }
}

beforeAll(async () => {
  const m = mariadb().options;
  // The app, as a user runs it: node app.js with its addresses in the environment (here an env file).
  app = await startCustomServer({
    kind: 'observability-app',
    command: process.execPath,
    debianPackage: 'nodejs',
    startTimeoutMs: 30_000,
    args: ({ port, dir: tmp }) => {
      const env = path.join(tmp, 'app.env');
      writeFileSync(
        env,
        [
          `METRICS_PORT=${port}`,
          `REDIS_URL=${redis().url}`,
          `MYSQL_URL=mysql://${m.user}@${m.host}:${m.port}/${m.database}`,
          `ES_NODE_1=${cluster().urls[0]}`,
          `ES_NODE_2=${cluster().urls[1]}`,
          '',
        ].join('\n'),
      );
      return [`--env-file=${env}`, path.join(dir, 'app.js')];
    },
    ready: (host, port) => httpOk(`http://${host}:${port}/metrics`),
    url: (port) => `http://127.0.0.1:${port}/metrics`,
  });
  prometheus = await startCustomServer({
    kind: 'prometheus',
    command: 'prometheus',
    debianPackage: 'prometheus',
    args: ({ port, dir: tmp, dataDir }) => {
      const config = path.join(tmp, 'prometheus.yml');
      writeFileSync(
        config,
        [
          'global: { scrape_interval: 1s, evaluation_interval: 1s }',
          `rule_files: ['${path.join(dir, 'alerts.yaml')}']`,
          'scrape_configs:',
          '  - job_name: observability-app',
          `    static_configs: [{ targets: ['127.0.0.1:${app.port}'] }]`,
          '',
        ].join('\n'),
      );
      return [
        `--config.file=${config}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ];
    },
    ready: (host, port) => httpOk(`http://${host}:${port}/-/ready`),
    url: (port) => `http://127.0.0.1:${port}`,
  });
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await app?.stop({ graceMs: 10_000 });
});

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function api<T>(p: string, params: Record<string, string> = {}): Promise<T> {
  const url = new URL(`/api/v1/${p}`, prometheus.url);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const r = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const body = (await r.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${p} ${JSON.stringify(params)}: ${body.error ?? r.status}`);
  return body.data;
}

/** The instant vector `expr` evaluates to now. */
async function query(expr: string): Promise<Sample[]> {
  const data = await api<{ resultType: string; result: Sample[] }>('query', { query: expr });
  return data.result;
}

/** Waits (up to `ms`) until `expr` has a sample; returns the samples. */
async function eventually(expr: string, ms = 20_000): Promise<Sample[]> {
  let last: Sample[] = [];
  await until(
    async () => {
      last = await query(expr);
      return last.length > 0;
    },
    ms,
    250,
  ).catch((error: unknown) => {
    throw new Error(`no sample of ${expr} within ${ms} ms`, { cause: error });
  });
  return last;
}

const scrapedNames = new Set<string>();

describe('a real Prometheus scraping the example app', () => {
  it('scrapes the app: every target connected, labelled by target; db.client.* with the conventions labels', async () => {
    await eventually('up{job="observability-app"} == 1');
    await until(
      async () =>
        (await query('reconnect_target_state{reconnect_target_state="connected"} == 1')).length === 3,
      20_000,
      250,
    );
    const ops = await eventually('db_client_operation_duration_count');
    const systems = new Map(ops.map((s) => [s.metric.reconnect_target, s.metric.db_system_name]));
    expect(Object.fromEntries(systems)).toEqual({ cache: 'redis', db: 'mariadb', search: 'elasticsearch' });
    await eventually(
      'db_client_operation_duration_bucket{reconnect_target="db",db_system_name="mariadb",db_namespace="test",db_operation_name="INSERT",db_collection_name="hits",le="0.005"}',
    );
    await eventually(
      'db_client_operation_duration_count{reconnect_target="cache",db_system_name="redis",db_namespace="0",db_operation_name="GET"} > 0',
    );
    await eventually(
      'db_client_operation_duration_count{reconnect_target="search",db_system_name="elasticsearch",db_operation_name="index",db_collection_name="products"} > 0',
    );
  });

  it("the MySQL pool as db.client.connection.*, one pool per target; an Elasticsearch target's nodes alive", async () => {
    await eventually(
      'db_client_connection_max{db_client_connection_pool_name="db",reconnect_target="db"} == 4',
    );
    const states = await eventually('db_client_connection_count{db_client_connection_pool_name="db"}');
    expect(new Set(states.map((s) => s.metric.db_client_connection_state))).toEqual(
      new Set(['idle', 'used']),
    );
    await eventually('db_client_connection_pending_requests{db_client_connection_pool_name="db"}');
    await eventually('db_client_connection_timeouts_total{db_client_connection_pool_name="db"}');
    await eventually('reconnect_nodes{reconnect_target="search",reconnect_node_state="alive"} == 2');
    await eventually('reconnect_budget_available{reconnect_target="cache"} > 0');
    await eventually(
      'reconnect_breaker_state{reconnect_target="cache",reconnect_breaker_state="closed"} == 1',
    );
  });

  it('during a fault (Redis hung, an Elasticsearch node killed): the metrics and the alerts say what happens', async () => {
    await redis().hang();
    await cluster().nodes[1]!.kill();
    try {
      await eventually(
        'reconnect_target_state{reconnect_target="cache",reconnect_target_state=~"reconnecting|failed"} == 1',
      );
      // Writes that may have run: what an on-call alerts on, by target and operation name.
      await eventually('increase(reconnect_writes_outcome_unknown_total{reconnect_target="cache"}[1m]) > 0');
      // What ended the attempts, truthfully: the attempt timeout while hung, no connection while reconnecting.
      await eventually(
        'reconnect_attempts_total{reconnect_target="cache",reconnect_attempt_outcome="attempt_timeout",error_type="ERR_ATTEMPT_TIMEOUT"} > 0',
      );
      await eventually(
        'reconnect_attempts_total{reconnect_target="cache",reconnect_attempt_outcome="not_connected"} > 0',
      );
      await eventually(
        'db_client_operation_duration_count{reconnect_target="cache",db_system_name="redis",error_type!=""} > 0',
      );
      await eventually(
        'reconnect_give_ups_total{reconnect_target="cache",reconnect_retry_reason="not_idempotent"} > 0',
      );
      await eventually(
        'reconnect_retries_total{reconnect_target="cache",reconnect_retry_reason=~"retryable|local",reconnect_outcome=~"not_sent|unknown"} > 0',
      );
      await eventually('reconnect_retry_delay_count{reconnect_target="cache"} > 0');
      await eventually('reconnect_nodes{reconnect_target="search",reconnect_node_state="dead"} >= 1');
      // The rules of alerts.yaml, evaluated by this Prometheus every second: the ones without `for` fire now.
      const firing = await eventually(
        'ALERTS{alertname="ReconnectOutcomeUnknownWrites",alertstate="firing"}',
      );
      expect(firing[0]!.metric).toMatchObject({
        reconnect_target: 'cache',
        severity: 'page',
        job: 'observability-app',
      });
      await eventually('ALERTS{alertname="ReconnectTargetDown",reconnect_target="cache"}'); // pending: `for: 1m`
    } finally {
      await redis().resume();
      await cluster().nodes[1]!.restart();
    }
    await eventually(
      'reconnect_target_state{reconnect_target="cache",reconnect_target_state="connected"} == 1',
    );
    await eventually('reconnect_reconnects_total{reconnect_target="cache"} >= 1');
    await eventually('reconnect_nodes{reconnect_target="search",reconnect_node_state="alive"} == 2', 30_000);
  }, 120_000);

  it('loaded every rule of alerts.yaml, healthy', async () => {
    const data = await api<{ groups: { rules: { name: string; health: string; type: string }[] }[] }>(
      'rules',
    );
    const rules = data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => [r.name, r.type, r.health])).toEqual([
      ['ReconnectTargetDown', 'alerting', 'ok'],
      ['ReconnectBreakerOpen', 'alerting', 'ok'],
      ['ReconnectRetryBudgetExhausted', 'alerting', 'ok'],
      ['ReconnectOutcomeUnknownWrites', 'alerting', 'ok'],
      ['ReconnectReconnectStorm', 'alerting', 'ok'],
    ]);
  });

  it('no series carries a node address, a node id or anything per operation beyond its name', async () => {
    const names = await api<string[]>('label/__name__/values');
    for (const n of names) scrapedNames.add(n);
    const labels = await api<string[]>('labels', { 'match[]': '{__name__=~"reconnect_.+|db_client_.+"}' });
    for (const forbidden of [
      'server_address',
      'server_port',
      'network_peer_address',
      'network_peer_port',
      'reconnect_node_id',
    ])
      expect(labels, forbidden).not.toContain(forbidden);
    // Every label of Reconnect's series is namespaced (or a convention's, or Prometheus's own).
    for (const l of labels)
      expect(l, l).toMatch(
        /^(?:__name__|job|instance|le|otel_scope_name|otel_scope_version|reconnect_.+|db_.+|error_type)$/,
      );
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync(path.join(dir, 'dashboard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
    templating: { list: { name: string; query?: { query: string } | string }[] };
  };
  const exprs = [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
    ...dashboard.templating.list.flatMap((v) =>
      typeof v.query === 'object' ? [{ where: `$${v.name}`, expr: v.query.query }] : [],
    ),
  ];
  const functions = new Set(
    'sum avg min max count rate irate increase histogram_quantile by without on ignoring group_left group_right and or unless bool offset label_values topk bottomk abs clamp_min clamp_max le'.split(
      ' ',
    ),
  );

  /** The metric names a PromQL expression reads (label matchers, ranges, strings, numbers and functions left out). */
  function metricNames(expr: string): string[] {
    const bare = expr
      .replace(/\{[^}]*\}/g, ' ')
      .replace(/\[[^\]]*\]/g, ' ')
      .replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
      .replace(/"[^"]*"/g, ' ');
    const ids = bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? [];
    // label_values(metric, label): the label is not a metric.
    const label = /label_values\(\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*,\s*([a-zA-Z_]+)\s*\)/.exec(expr)?.[1];
    return ids.filter((id) => !functions.has(id) && id !== label);
  }

  it('has panels for state, operations, retries, outcome-unknown writes, breaker, budget, nodes, reconnects, pools', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(12);
    expect(exprs.length).toBeGreaterThan(dashboard.panels.length);
  });

  it('uses only metric names the scrape returned, in queries Prometheus accepts', async () => {
    expect(scrapedNames.size, 'the scrape above ran first').toBeGreaterThan(0);
    for (const { where, expr } of exprs) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const n of names) expect(scrapedNames.has(n), `${where}: ${n} was not scraped`).toBe(true);
      if (expr.startsWith('label_values(')) continue; // Grafana's, not PromQL
      const promql = expr.replaceAll('$__rate_interval', '15s').replaceAll('$target', '.*');
      await expect(query(promql), `${where}: ${promql}`).resolves.toBeDefined();
    }
  });
});
