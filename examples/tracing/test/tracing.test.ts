import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricNames, SpanNames } from '@reconnect/core';
import { startRedis, useServer } from '@reconnect/testkit';
import { beforeAll, describe, expect, it } from 'vitest';

// The tracing example run as a user would (after the build), against a throwaway Redis: the OpenTelemetry SDK it
// registers must receive Reconnect's spans, and its Prometheus exporter must serve Reconnect's metrics.

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let result: Run;
const redis = useServer(() => startRedis());

beforeAll(async () => {
  const env = { ...process.env, REDIS_URL: redis().url };
  result = await new Promise<Run>((resolve) => {
    execFile(process.execPath, ['app.js'], { cwd: dir, env, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}, 30_000);

/** The span lines the program printed: name, kind, depth (0 = root) and the rest of the line. */
function spanLines(stdout: string): { name: string; kind: string; depth: number; line: string }[] {
  return [
    ...stdout.matchAll(/^( *)span ("(?:[^"\\]|\\.)*") (CLIENT|INTERNAL|SERVER|PRODUCER|CONSUMER) (.*)$/gm),
  ].map((m) => ({ depth: m[1]!.length / 2, name: JSON.parse(m[2]!) as string, kind: m[3]!, line: m[4]! }));
}

/** The metrics part of the output: everything after the "# GET …/metrics → 200" line. */
function metricsText(stdout: string): string {
  const at = stdout.search(/^# GET http:\/\/127\.0\.0\.1:\d+\/metrics → 200$/m);
  expect(at, 'the program scraped its /metrics endpoint').toBeGreaterThan(-1);
  return stdout.slice(at);
}

describe('examples/tracing', () => {
  it('exits 0 by itself, with nothing on stderr', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('exports every span the program exercised: operations (CLIENT), attempts, a wait, a health check, a reconnect', () => {
    const spans = spanLines(result.stdout);
    const internal = new Set(spans.filter((s) => s.kind === 'INTERNAL').map((s) => s.name));
    expect([...internal]).toEqual(
      expect.arrayContaining([
        SpanNames.ATTEMPT,
        SpanNames.CONNECTION_WAIT,
        SpanNames.HEALTH_CHECK,
        SpanNames.RECONNECT,
        SpanNames.POLICY_RELOAD,
      ]),
    );
    const operations = spans.filter((s) => s.kind === 'CLIENT');
    const { port } = redis().options;
    // The database conventions' span name: `{db.operation.name} {server.address}:{server.port}` for Redis.
    expect(operations.map((s) => s.name)).toEqual(
      ['SET', 'GET', 'INCR', 'GET', 'CLIENT ID', 'CLIENT KILL', 'DEL'].map((op) => `${op} 127.0.0.1:${port}`),
    );
    for (const op of operations) {
      expect(op.depth, op.line).toBe(0);
      expect(op.line).toContain('db.system.name="redis"');
      expect(op.line).toContain('db.namespace="0"');
      expect(op.line).toContain(`server.port=${port}`);
      expect(op.line).toContain('network.peer.address="127.0.0.1"');
      expect(op.line).not.toMatch(/\bdb\.system=/);
    }
    expect(spans.find((s) => s.name === SpanNames.RECONNECT)?.line).toMatch(/\(\d+(\.\d+)?ms, OK\)/);
  });

  it('shows the retried operation as two attempt spans under its operation span, with the retry decision', () => {
    const lines = result.stdout.split('\n');
    const start = lines.findIndex((l) => /^span "GET [^"]+" CLIENT .*reconnect\.attempts=2/.test(l));
    expect(start).toBeGreaterThan(-1);
    const block = lines.slice(start + 1, start + 4).join('\n');
    expect(block).toMatch(
      /^ {2}event reconnect\.retry_decision reconnect\.retry\.decision="retry" reconnect\.retry\.reason="retryable"/m,
    );
    // Redis's LOADING reply: the store's own status is error.type, never the class name `ReplyError`.
    expect(block).toMatch(
      /^ {2}span "reconnect\.attempt" INTERNAL \([\d.]+ms, ERROR\) .*error\.type="LOADING".*reconnect\.error\.kind="transient".*db\.response\.status_code="LOADING"/m,
    );
    expect(block).toMatch(
      /^ {2}span "reconnect\.attempt" INTERNAL \([\d.]+ms, UNSET\) .*reconnect\.attempt=2/m,
    );
    expect(result.stdout).not.toMatch(/error\.type="[A-Z][a-z]+[A-Za-z]*Error"/);
  });

  it('serves the metrics the program exercised in the Prometheus text, labelled with the target', () => {
    const text = metricsText(result.stdout);
    const exercised = [
      MetricNames.DB_CLIENT_OPERATION_DURATION,
      MetricNames.ATTEMPTS,
      MetricNames.RETRIES,
      MetricNames.OPERATION_RETRIES,
      MetricNames.RETRY_DELAY,
      MetricNames.BREAKER_STATE,
      MetricNames.BUDGET_AVAILABLE,
      MetricNames.RECONNECTS,
      MetricNames.HEALTH_CHECK_DURATION,
      MetricNames.TARGET_STATE,
      MetricNames.POLICY_RELOADS,
    ];
    for (const name of exercised) {
      // Prometheus spelling: dots become underscores; counters end in _total, histograms in _count/_sum/_bucket.
      const prom = name.replaceAll('.', '_');
      // A policy reload is the manager's (per file, by result), not one target's.
      const label =
        name === MetricNames.POLICY_RELOADS
          ? 'reconnect_reload_result="unchanged"'
          : 'reconnect_target="cache"';
      const sample = new RegExp(`^${prom}(_total|_count|_sum|_bucket)?\\{[^}]*${label}[^}]*\\} \\S+$`, 'm');
      expect(text, name).toMatch(sample);
    }
    expect(text).toMatch(/^reconnect_target_state\{[^}]*reconnect_target_state="connected"[^}]*\} 1$/m);
    expect(text).toMatch(/^reconnect_retries_total\{[^}]*reconnect_retry_reason="retryable"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^reconnect_reconnects_total\{[^}]*\} 1$/m);
    expect(text).toMatch(
      /^db_client_operation_duration_count\{[^}]*db_system_name="redis",db_namespace="0",db_operation_name="SET"[^}]*\} 1$/m,
    );
  });
});
