import { describe, expect, it } from 'vitest';
import { formatConformanceTable } from './report.js';

describe('formatConformanceTable', () => {
  it('renders one Markdown row per scenario with bounds, dashes for what was not measured, escaped pipes', () => {
    const table = formatConformanceTable({
      driver: 'd',
      server: 'redis on 127.0.0.1:1',
      policy: {},
      results: [
        {
          scenario: 'hang',
          status: 'passed',
          detectionMs: 701.4,
          detectionBoundMs: 1050,
          recoveryMs: 2,
          recoveryBoundMs: 1100,
        },
        { scenario: 'auth', status: 'skipped', notes: 'skipped: a|b' },
        { scenario: 'stop', status: 'failed', error: 'first line\nsecond line' },
      ],
    });
    expect(table.split('\n')).toEqual([
      'Conformance of driver `d` against redis on 127.0.0.1:1',
      '',
      '| scenario | result | detection ms | recovery ms | operation ms | notes |',
      '|---|---|---|---|---|---|',
      '| hang | passed | 701 (≤ 1050) | 2 (≤ 1100) | — |  |',
      '| auth | skipped | — | — | — | skipped: a\\|b |',
      '| stop | failed | — | — | — | first line |',
    ]);
  });
});
