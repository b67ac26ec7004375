import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AttemptOutcomes,
  AttributeNames,
  DeprecatedAttributeNames,
  DeprecatedMetricNames,
  EventNames,
  MetricNames,
  RetryReasons,
  SpanNames,
} from '../../src/telemetry/names.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
/** The README's "Telemetry" section: what it says is emitted. */
const section = readme.slice(readme.indexOf('## Telemetry\n'), readme.indexOf('## Cost\n'));

const groups = {
  SpanNames,
  EventNames,
  MetricNames,
  RetryReasons,
  AttemptOutcomes,
  AttributeNames,
  DeprecatedAttributeNames,
  DeprecatedMetricNames,
};

describe("the core README's Telemetry section says exactly what is emitted", () => {
  for (const [group, names] of Object.entries(groups)) {
    it(`documents every one of ${group}`, () => {
      const missing = Object.values(names).filter((name) => !section.includes(`\`${name}\``));
      expect(missing).toEqual([]);
    });
  }

  it('names nothing that is not emitted: every telemetry name it quotes is one of the constants', () => {
    const known = new Set<string>(Object.values(groups).flatMap((g) => Object.values(g) as string[]));
    const quoted = [...section.matchAll(/`([a-z_][a-z0-9_.-]*)`/g)]
      .map((m) => m[1]!)
      .filter((t) => /^(db|reconnect|server|network|error|pool)\.[a-z]/.test(t));
    expect(quoted.length).toBeGreaterThan(50);
    expect([...new Set(quoted.filter((t) => !known.has(t)))]).toEqual([]);
  });
});
