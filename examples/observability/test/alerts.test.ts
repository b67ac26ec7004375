// The alerting rules of alerts.yaml are valid Prometheus rules, and each has unit tests that pass — and that fail
// when the rule is broken (a unit test that cannot fail proves nothing). Runs Debian's promtool (.ci/run installs
// the `prometheus` package).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const rules = readFileSync(path.join(dir, 'alerts.yaml'), 'utf8');
const tests = readFileSync(path.join(dir, 'alerts.test.yaml'), 'utf8');

function promtool(args: string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('promtool', args, { cwd, timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

const alerts = [...rules.matchAll(/^ {6}- alert: (\w+)$/gm)].map((m) => m[1]!);

describe('alerts.yaml', () => {
  it('has the five alerts: target down, breaker open, retry budget exhausted, outcome-unknown writes, reconnect storm', () => {
    expect(alerts).toEqual([
      'ReconnectTargetDown',
      'ReconnectBreakerOpen',
      'ReconnectRetryBudgetExhausted',
      'ReconnectOutcomeUnknownWrites',
      'ReconnectReconnectStorm',
    ]);
  });

  it('is valid for promtool check rules', async () => {
    const r = await promtool(['check', 'rules', 'alerts.yaml'], dir);
    expect(r.out).toContain('SUCCESS: 5 rules found');
    expect(r.code).toBe(0);
  });

  it('every alert has a unit test that expects it to fire and one that expects it not to', () => {
    for (const name of alerts) {
      const cases = [...tests.matchAll(new RegExp(`alertname: ${name}\\n\\s+exp_alerts:(.*)`, 'g'))];
      expect(
        cases.some((c) => c[1]!.trim() === '[]'),
        `${name} stays silent somewhere`,
      ).toBe(true);
      expect(
        cases.some((c) => c[1]!.trim() === ''),
        `${name} fires somewhere`,
      ).toBe(true);
    }
  });

  it('passes promtool test rules alerts.test.yaml', async () => {
    const r = await promtool(['test', 'rules', 'alerts.test.yaml'], dir);
    expect(r.out).toContain('SUCCESS');
    expect(r.code).toBe(0);
  });

  // Each rule broken in turn (its threshold or its `for` changed): its tests must fail.
  const broken: [string, string, string][] = [
    [
      'ReconnectTargetDown',
      'for: 1m\n        labels:\n          severity: page',
      'for: 3m\n        labels:\n          severity: page',
    ],
    ['ReconnectBreakerOpen', 'reconnect_breaker_state="open"', 'reconnect_breaker_state="closed"'],
    [
      'ReconnectRetryBudgetExhausted',
      'reconnect_retry_reason="budget_exhausted"',
      'reconnect_retry_reason=~".+"',
    ],
    [
      'ReconnectOutcomeUnknownWrites',
      'reconnect_writes_outcome_unknown_total[5m])) > 0',
      'reconnect_writes_outcome_unknown_total[5m])) > 1',
    ],
    [
      'ReconnectReconnectStorm',
      'reconnect_reconnects_total[10m])) > 5',
      'reconnect_reconnects_total[10m])) > 50',
    ],
  ];
  it.each(broken)('the unit tests catch %s broken', async (name, from, to) => {
    expect(rules, name).toContain(from);
    const tmp = mkdtempSync(path.join(tmpdir(), 'reconnect-alerts-'));
    try {
      writeFileSync(path.join(tmp, 'alerts.yaml'), rules.replace(from, to));
      copyFileSync(path.join(dir, 'alerts.test.yaml'), path.join(tmp, 'alerts.test.yaml'));
      const r = await promtool(['test', 'rules', 'alerts.test.yaml'], tmp);
      expect(r.code).not.toBe(0);
      expect(r.out).toContain(`alertname: ${name}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
