import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MetricNames, SpanNames } from '@reconnect/core';
import { beforeAll, describe, expect, it } from 'vitest';

// The tracing example run as a user would (after the build): the OpenTelemetry SDK it registers must
// receive Reconnect's spans, and its Prometheus exporter must serve Reconnect's metrics.

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

let result: Run;

beforeAll(async () => {
  result = await new Promise<Run>((resolve) => {
    execFile(process.execPath, ['app.js'], { cwd: dir, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}, 30_000);

/** The span lines the program printed: name, depth (0 = root) and the rest of the line. */
function spanLines(stdout: string): { name: string; depth: number; line: string }[] {
  return [...stdout.matchAll(/^( *)span (\S+) (.*)$/gm)].map((m) => ({
    depth: m[1]!.length / 2,
    name: m[2]!,
    line: m[3]!,
  }));
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

  it('exports every span kind the program exercised: operations, attempts, a health check, a reconnect', () => {
    const spans = spanLines(result.stdout);
    const names = new Set(spans.map((s) => s.name));
    expect([...names]).toEqual(
      expect.arrayContaining([
        SpanNames.EXECUTE,
        SpanNames.ATTEMPT,
        SpanNames.HEALTH_CHECK,
        SpanNames.RECONNECT,
      ]),
    );
    const operations = spans.filter((s) => s.name === SpanNames.EXECUTE);
    expect(operations.map((s) => /reconnect\.operation="([^"]+)"/.exec(s.line)?.[1])).toEqual([
      'SET',
      'GET',
      'INCR',
      'GET (after LOADING)',
      'CLIENT ID',
      'CLIENT KILL',
      'DEL',
    ]);
    for (const op of operations) expect(op.depth, op.line).toBe(0);
    expect(spans.find((s) => s.name === SpanNames.RECONNECT)?.line).toMatch(/\(\d+(\.\d+)?ms, OK\)/);
  });

  it('shows the retried operation as two attempt spans under its execute span, with the retry decision', () => {
    const lines = result.stdout.split('\n');
    const start = lines.findIndex((l) => l.includes('reconnect.operation="GET (after LOADING)"'));
    expect(start).toBeGreaterThan(-1);
    expect(lines[start]).toContain('reconnect.attempts=2');
    const block = lines.slice(start + 1, start + 4).join('\n');
    expect(block).toMatch(/^ {2}event reconnect\.retry_decision decision="retry" reason="retryable"/m);
    expect(block).toMatch(
      /^ {2}span reconnect\.attempt \([\d.]+ms, ERROR\) .*reconnect\.error\.kind="transient"/m,
    );
    expect(block).toMatch(/^ {2}span reconnect\.attempt \([\d.]+ms, UNSET\) .*reconnect\.attempt=2/m);
  });

  it("serves every one of Reconnect's metrics in the Prometheus text, labelled with the target", () => {
    const text = metricsText(result.stdout);
    for (const name of Object.values(MetricNames)) {
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
    expect(text).toMatch(/^reconnect_retries_total\{[^}]*decision="retry",reason="retryable"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^reconnect_reconnects_total\{[^}]*\} 1$/m);
  });
});
