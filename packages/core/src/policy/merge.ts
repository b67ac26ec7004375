import { isPlainObject, setOwn } from './plain-object.js';

/**
 * Where a resolved value came from: the built-in defaults, the file's `defaults`, a preset,
 * a named policy of the file, or the target itself (its inline policy or its `pool`).
 */
export type PolicySource = 'default' | 'defaults' | `preset:${string}` | `policies.${string}` | 'target';

/** For every leaf of a resolved policy (`retry.backoff.base`), the layer that set it. */
export type Provenance = Record<string, PolicySource>;

/** One layer of a merge: a partial policy and the name it is reported under. */
export interface PolicyLayer {
  source: PolicySource;
  value: Record<string, unknown>;
}

/** A merged value and, for each leaf, the layer that won. */
export interface MergeResult {
  value: Record<string, unknown>;
  provenance: Provenance;
}

/**
 * Merges layers lowest first: objects merge key by key, everything else (arrays included)
 * replaces what was below. `extends` keys are dropped; `undefined` never overrides.
 */
export function mergeLayers(layers: readonly PolicyLayer[]): MergeResult {
  const value: Record<string, unknown> = {};
  const provenance: Provenance = {};
  for (const layer of layers) mergeInto(value, layer.value, layer.source, '', provenance);
  return { value, provenance };
}

function mergeInto(
  target: Record<string, unknown>,
  source: Record<string, unknown>,
  label: PolicySource,
  prefix: string,
  provenance: Provenance,
): void {
  for (const [key, incoming] of Object.entries(source)) {
    if (incoming === undefined || (prefix === '' && key === 'extends')) continue;
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (isPlainObject(incoming)) {
      const existing = target[key];
      const into: Record<string, unknown> = isPlainObject(existing) ? existing : {};
      if (!isPlainObject(existing)) {
        clearBelow(provenance, path);
        setOwn(target, key, into);
      }
      mergeInto(into, incoming, label, path, provenance);
    } else {
      clearBelow(provenance, path);
      setOwn(target, key, Array.isArray(incoming) ? [...(incoming as unknown[])] : incoming);
      provenance[path] = label;
    }
  }
}

// A leaf replacing a whole subtree (or the reverse) must not leave stale provenance behind.
function clearBelow(provenance: Provenance, path: string): void {
  delete provenance[path];
  const prefix = `${path}.`;
  for (const key of Object.keys(provenance)) if (key.startsWith(prefix)) delete provenance[key];
}
