// The layers a policy is merged from: the built-in defaults, `extends` chains of named policies and presets,
// the target's own policy; and the one merge + validation every resolved policy goes through.
import { getPreset, presetNames } from '@reconnect/policies';
import type { ConfigIssue } from '../errors.js';
import { checkPolicyConsistency } from './consistency.js';
import { builtinDefaults } from './defaults.js';
import { didYouMean } from './did-you-mean.js';
import { zodIssuesToConfigIssues } from './issues.js';
import { mergeLayers, type PolicyLayer, type PolicySource, type Provenance } from './merge.js';
import { isPlainObject } from './plain-object.js';
import { markResolved, type ResolvedPolicy } from './resolved.js';
import { resolvedPolicySchema } from './schema.js';

/** A path inside the configuration. */
export type Path = (string | number)[];

/** A policy and where each of its values came from. */
export interface ResolvedPolicyWithProvenance {
  policy: ResolvedPolicy;
  provenance: Provenance;
  layers: PolicySource[];
}

/** What resolution collects as it goes: the file, the named policies, the issues found. */
export interface Context {
  file: string | undefined;
  policies: Record<string, unknown>;
  issues: ConfigIssue[];
}

/** How a preset is named where a policy name could stand. */
export const PRESET = 'preset:';

export function issue(ctx: Context, path: Path, kind: string, message: string, expected?: string): void {
  const i: ConfigIssue = { path, kind, message };
  if (ctx.file !== undefined) i.file = ctx.file;
  if (expected !== undefined) i.expected = expected;
  ctx.issues.push(i);
}

// Ensures ResolvedPolicy values can be fed back in: Infinity is how `unlimited` resolves.
export function normalizeInput(value: Record<string, unknown>): Record<string, unknown> {
  const reconnect = value['reconnect'];
  if (isPlainObject(reconnect) && reconnect['maxRetries'] === Number.POSITIVE_INFINITY) {
    return { ...value, reconnect: { ...reconnect, maxRetries: 'unlimited' } };
  }
  return value;
}

/**
 * The layers a reference (`preset:NAME` or a name from `policies`) stands for, lowest first,
 * following `extends` recursively. `at` is where the reference is written, for issues.
 */
export function expandReference(
  ctx: Context,
  ref: string,
  at: Path,
  chain: string[],
): PolicyLayer[] | undefined {
  if (chain.includes(ref)) {
    // Rotated to start at the smallest name, so one cycle reads the same from wherever it is entered.
    const members = chain.slice(chain.indexOf(ref));
    const start = members.indexOf([...members].sort()[0] as string);
    const rotated = [...members.slice(start), ...members.slice(0, start)];
    const cycle = [...rotated, rotated[0]].join(' → ');
    issue(ctx, at, 'extends_cycle', `extends cycle: ${cycle}`, 'a chain of extends that ends');
    return undefined;
  }
  if (ref.startsWith(PRESET)) {
    const name = ref.slice(PRESET.length);
    const preset = getPreset(name);
    if (preset === undefined) {
      const hint = didYouMean(name, presetNames);
      issue(
        ctx,
        at,
        'unknown_preset',
        `Unknown preset "${name}"${hint === undefined ? '' : ` — did you mean "preset:${hint}"?`}`,
        `one of ${presetNames.map((n) => PRESET + n).join(', ')}`,
      );
      return undefined;
    }
    return expandPolicy(ctx, preset.policy, `preset:${name}`, at, [...chain, ref]);
  }
  const named = Object.prototype.hasOwnProperty.call(ctx.policies, ref) ? ctx.policies[ref] : undefined;
  if (!isPlainObject(named)) {
    const names = Object.keys(ctx.policies);
    const hint = didYouMean(ref, [...names, ...presetNames.map((n) => PRESET + n)]);
    issue(
      ctx,
      at,
      'unknown_policy',
      `Unknown policy "${ref}"${hint === undefined ? '' : ` — did you mean "${hint}"?`}`,
      names.length > 0
        ? `a name from policies (${names.join(', ')}) or preset:NAME`
        : 'preset:NAME or a name defined under policies',
    );
    return undefined;
  }
  return expandPolicy(ctx, named, `policies.${ref}`, ['policies', ref, 'extends'], [...chain, ref]);
}

/** The layers of one policy object: its `extends` chain first, then the object itself. */
export function expandPolicy(
  ctx: Context,
  policy: Record<string, unknown>,
  source: PolicySource,
  extendsAt: Path,
  chain: string[],
): PolicyLayer[] | undefined {
  const parent = policy['extends'];
  const below = typeof parent === 'string' ? expandReference(ctx, parent, extendsAt, chain) : [];
  if (below === undefined) return undefined;
  // `{ extends: x }` alone adds nothing of its own: it is not a layer.
  const own = Object.keys(policy).some((k) => k !== 'extends' && policy[k] !== undefined);
  return own ? [...below, { source, value: normalizeInput(policy) }] : below;
}

/**
 * Where in the file a policy value (`retry.attemptTimeout`) set by `source` is written, for issues.
 * Values from a preset or the built-in defaults are written nowhere: they are reported at `fallback`.
 */
export type Locate = (field: readonly (string | number)[], source: PolicySource | undefined) => Path;

export function mergeAndValidate(
  ctx: Context,
  layers: PolicyLayer[],
  basePath: Path,
  locate: Locate = (field) => [...basePath, ...field],
): ResolvedPolicyWithProvenance | undefined {
  const merged = mergeLayers(layers);
  const parsed = resolvedPolicySchema.safeParse(merged.value, { reportInput: true });
  if (!parsed.success) {
    ctx.issues.push(
      ...zodIssuesToConfigIssues(parsed.error.issues, {
        file: ctx.file,
        basePath,
        schema: resolvedPolicySchema,
      }),
    );
    return undefined;
  }
  const consistency = checkPolicyConsistency(parsed.data, merged.provenance);
  for (const c of consistency) {
    const i: ConfigIssue = { ...c, path: locate(c.path, merged.provenance[c.path.join('.')]) };
    if (ctx.file !== undefined) i.file = ctx.file;
    ctx.issues.push(i);
  }
  if (consistency.length > 0) return undefined;
  // A target's inline policy and its `pool` are both "target": list it once.
  const sources = layers.map((l) => l.source).filter((s, i, all) => i === 0 || all[i - 1] !== s);
  return { policy: markResolved(parsed.data), provenance: merged.provenance, layers: sources };
}

export function defaultLayers(): PolicyLayer[] {
  return [{ source: 'default', value: builtinDefaults }];
}
