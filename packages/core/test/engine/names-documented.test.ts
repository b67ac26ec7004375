import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  AttributeNames,
  EventNames,
  MetricNames,
  RetryReasons,
  SpanNames,
} from '../../src/telemetry/names.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

// Attributes only the lifecycle emits are documented in docs/lifecycle.md by its owner.
const lifecycleOnly = new Set<string>([
  AttributeNames.HEALTH_OK,
  AttributeNames.NODE_ID,
  AttributeNames.NODE_DEAD_COUNT,
  AttributeNames.NODES,
  AttributeNames.TARGET_STATE,
]);

describe('every telemetry name is documented in packages/core/README.md', () => {
  const groups = {
    SpanNames,
    EventNames,
    MetricNames,
    RetryReasons,
    AttributeNames: Object.fromEntries(
      Object.entries(AttributeNames).filter(([, v]) => !lifecycleOnly.has(v)),
    ),
  };
  for (const [group, names] of Object.entries(groups)) {
    it(group, () => {
      const missing = Object.values(names).filter((name) => !readme.includes(`\`${name}\``));
      expect(missing).toEqual([]);
    });
  }
});
