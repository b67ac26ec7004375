import { conservative } from './conservative.js';
import { elasticsearch } from './elasticsearch.js';
import { fastFailover } from './fast-failover.js';
import { mysql } from './mysql.js';
import { noRetry } from './no-retry.js';
import type { Preset } from './preset.js';
import { redis } from './redis.js';

export type { Preset, PresetPolicy } from './preset.js';
export { definePreset } from './preset.js';
export { conservative, elasticsearch, fastFailover, mysql, noRetry, redis };

/** Every preset by name, as used in `preset:NAME`. */
export const presets: Readonly<Record<string, Preset>> = Object.freeze({
  mysql,
  redis,
  elasticsearch,
  'fast-failover': fastFailover,
  conservative,
  'no-retry': noRetry,
});

/** The preset names, in a stable order. */
export const presetNames: readonly string[] = Object.freeze(Object.keys(presets));

/** The preset called `name`, or `undefined`. */
export function getPreset(name: string): Preset | undefined {
  return Object.prototype.hasOwnProperty.call(presets, name) ? presets[name] : undefined;
}
