import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as core from '../src/index.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
/** The README's "Public API" section: the documented surface of the whole package. */
const publicApi = readme.slice(readme.indexOf('## Public API'));
const indexSource = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');

describe('@reconnect/core public surface', () => {
  it('exports only what the README documents under "Public API"', () => {
    const undocumented = Object.keys(core).filter((name) => !new RegExp(`\\b${name}\\b`).test(publicApi));
    expect(undocumented).toEqual([]);
  });

  it('lists its exports by name: no `export *` in src/index.ts', () => {
    expect(indexSource).not.toMatch(/export \* from|export type \* from/);
  });

  it('keeps internals out: the loader, merge, instrument and state-machine helpers are not exported', () => {
    for (const internal of [
      'INTERNAL_ISSUE_KIND',
      'readConfigFile',
      'mergeLayers',
      'markResolved',
      'secretValues',
      'createEngineInstruments',
      'createLifecycleInstruments',
      'reconnectorTransition',
      'zodIssuesToConfigIssues',
    ])
      expect(Object.keys(core)).not.toContain(internal);
  });
});
