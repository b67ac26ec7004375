import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// A store whose driver cannot be imported is skipped, and the run says so in its summary and its
// verdict: the demo never passes silently with a store missing.

interface Runner {
  runDemo(
    options: object,
  ): Promise<{ code: number; summary: { skipped: string[]; stores: { store: string; skipped?: string }[] } }>;
  scenarios: Record<string, () => Record<string, unknown>>;
}
const runnerPath = '../runner.js';
const runner = (await import(runnerPath)) as Runner;

const out = mkdtempSync(path.join(tmpdir(), 'reconnect-demo-skip-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('a store whose driver is not available', () => {
  it('is skipped, and the summary and the verdict say so', async () => {
    const real = runner.scenarios.elasticsearch!;
    runner.scenarios.elasticsearch = () => ({ ...real(), driverPackage: '@reconnect/driver-not-there-yet' });
    let text = '';
    try {
      const { code, summary } = await runner.runDemo({
        short: true,
        only: ['redis', 'elasticsearch'],
        outDir: out,
        out: { write: (t: string) => (text += t), isTTY: false },
      });
      expect(code).toBe(0);
      expect(summary.skipped).toEqual(['mysql', 'elasticsearch']);
      const es = summary.stores.find((s) => s.store === 'elasticsearch')!;
      expect(es.skipped).toMatch(/^driver not available yet \(@reconnect\/driver-not-there-yet: /);
    } finally {
      runner.scenarios.elasticsearch = real;
    }
    expect(text).toContain('! Elasticsearch: SKIPPED — driver not available yet');
    expect(text).toMatch(/^Elasticsearch: SKIPPED — driver not available yet/m);
    expect(text).toContain('✓ Reconnect kept its promises on Redis:');
    expect(text).toMatch(
      /! not shown: MariaDB \(not selected \(--only\)\); Elasticsearch \(driver not available yet .*\) — this run covers 1 of 3 stores/,
    );
    const html = readFileSync(path.join(out, 'index.html'), 'utf8');
    expect(html).toContain('driver not available yet');
  }, 90_000);
});
