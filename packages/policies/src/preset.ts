/**
 * A preset: a partial policy as plain data, in the shape of `@reconnect/core`'s `PolicyInput`
 * (this package cannot import core: core imports it to resolve `preset:NAME`).
 */
export interface Preset {
  /** The name used as `preset:NAME`. */
  readonly name: string;
  /** One line for `reconnect validate` and the docs. */
  readonly description: string;
  /** Where the numbers come from, one line per source. */
  readonly sources: readonly string[];
  /** The partial policy, durations as strings (`10s`), merged over the built-in defaults. */
  readonly policy: PresetPolicy;
}

/** A partial policy as plain JSON-like data: nested objects of strings, numbers, booleans and lists. */
export type PresetPolicy = { readonly [section: string]: PresetValue };
type PresetValue =
  string | number | boolean | readonly (string | number)[] | { readonly [key: string]: PresetValue };

/** Checks a preset's shape at compile time and returns it unchanged. */
export function definePreset<const P extends Preset>(preset: P): P {
  return preset;
}
