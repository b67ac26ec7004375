import { ConfigError, type ConfigIssue } from '../errors.js';
import { interpolate, type Environment } from './interpolate.js';
import { zodIssuesToConfigIssues } from './issues.js';
import type { PolicyLayer, PolicySource, Provenance } from './merge.js';
import { isPlainObject } from './plain-object.js';
import {
  defaultLayers,
  expandPolicy,
  expandReference,
  issue,
  mergeAndValidate,
  normalizeInput,
  type Context,
  type Path,
  type ResolvedPolicyWithProvenance,
} from './policy-layers.js';
import { isResolvedPolicy, type ResolvedPolicy } from './resolved.js';
import { urlIssues } from './url-credentials/check-urls.js';
import {
  configSchema,
  extendablePolicySchema,
  type ConfigInput,
  type ExtendablePolicyInput,
  type PolicyInput,
} from './schema.js';

/** One target after resolution: its driver, its options as given (interpolated), its complete policy. */
export interface ResolvedTarget {
  /** The target's name (its key under `targets`). */
  name: string;
  /** A built-in alias (`mysql`, `redis`, `elasticsearch`) or a package name. */
  driver: string;
  /** Driver options with `${VAR}` replaced; validated later by the driver's own schema. May hold secrets: never print unredacted. */
  options: unknown;
  /** Whether `startAll()` must fail when this target cannot connect (default true). */
  required: boolean;
  /** The free-text description, when given. */
  description?: string;
  /** The complete policy, durations in milliseconds. */
  policy: ResolvedPolicy;
  /** For every leaf of `policy` (`retry.backoff.base`), the layer that set it. */
  provenance: Provenance;
  /** The layers merged, lowest first (`default`, `defaults`, `preset:redis`, `policies.patient`, `target`). */
  layers: PolicySource[];
}

/** A whole configuration after resolution. */
export interface ResolvedConfig {
  /** The file it came from, when it came from a file. */
  file?: string;
  /** Every target by name. */
  targets: Record<string, ResolvedTarget>;
}

/** Options of {@link resolveConfig}. */
export interface ResolveConfigOptions {
  /** The file the configuration came from, named in every issue. */
  file?: string | undefined;
  /** Where `${NAME}` values come from; `process.env` by default. */
  env?: Environment;
}

export type { ResolvedPolicyWithProvenance } from './policy-layers.js';

/**
 * Resolves a policy given in code: merges it over the built-in defaults (following `extends: 'preset:NAME'`)
 * and validates the result. Accepts an already resolved policy (idempotent). Throws {@link ConfigError}.
 */
export function resolvePolicy(input?: PolicyInput | ExtendablePolicyInput | ResolvedPolicy): ResolvedPolicy {
  // Exactly once, wherever the policy came from (a file, createTarget in code, a reload).
  if (isResolvedPolicy(input)) return input;
  return resolvePolicyWithProvenance(input).policy;
}

/** Like {@link resolvePolicy}, and also says which layer set each value. Throws {@link ConfigError}. */
export function resolvePolicyWithProvenance(
  input?: PolicyInput | ExtendablePolicyInput | ResolvedPolicy,
  options: { env?: Environment; file?: string } = {},
): ResolvedPolicyWithProvenance {
  const ctx: Context = { file: options.file, policies: {}, issues: [] };
  const raw: unknown = input ?? {};
  // An already resolved policy was interpolated once: its text (an escaped `$${HOME}` is now `${HOME}`) is final.
  const { value, issues } = isResolvedPolicy(raw)
    ? { value: raw, issues: [] }
    : interpolate(raw, options.env ?? process.env, {
        file: options.file,
        coerceAt: (path) => path.at(-1) !== 'query',
      });
  ctx.issues.push(...issues);
  if (!isPlainObject(value)) {
    issue(
      ctx,
      [],
      'invalid_type',
      'A policy must be an object',
      'an object with retry, healthCheck, reconnect, circuitBreaker, pool',
    );
    throw new ConfigError(ctx.issues, options.file);
  }
  const normalized = normalizeInput(value);
  const checked = extendablePolicySchema.safeParse(normalized, { reportInput: true });
  if (!checked.success) {
    ctx.issues.push(
      ...zodIssuesToConfigIssues(checked.error.issues, {
        file: options.file,
        basePath: [],
        schema: extendablePolicySchema,
      }),
    );
  }
  if (ctx.issues.length > 0) throw new ConfigError(ctx.issues, options.file);
  const own = expandPolicy(ctx, normalized, 'target', ['extends'], []);
  const result = own === undefined ? undefined : mergeAndValidate(ctx, [...defaultLayers(), ...own], []);
  if (result === undefined || ctx.issues.length > 0) throw new ConfigError(ctx.issues, options.file);
  return result;
}

/**
 * Whether a path of the file lies in its policy parts (defaults, policies.*, a target's policy, pool and
 * required), where `"${N:-3}"` may stand for a number or boolean. Not driver options: a password of
 * digits must stay a string. Not `healthCheck.query`, the one free-text policy field.
 */
function isPolicyPath(path: readonly (string | number)[]): boolean {
  if (path.at(-1) === 'query') return false;
  const [head, , part] = path;
  if (head === 'defaults' || head === 'policies') return true;
  return head === 'targets' && (part === 'policy' || part === 'pool' || part === 'required');
}

// Issues under a path that already has a missing variable are consequences, not news.
function dropConsequences(envIssues: readonly ConfigIssue[], schemaIssues: ConfigIssue[]): ConfigIssue[] {
  const keys = envIssues.map((i) => i.path.join('\u0000'));
  return schemaIssues.filter((s) => {
    const key = s.path.join('\u0000');
    return !keys.some((k) => key === k || key.startsWith(`${k}\u0000`));
  });
}

/**
 * Whether a target's merged policy would rest on input that already failed validation: its own subtree,
 * `defaults`, a named policy in its extends chain, or the document as a whole. Such a target's cross-field
 * rules are skipped (they would only echo the shape problem); every other target is still checked.
 */
function dependsOnBrokenInput(broken: readonly Path[], target: string, own: readonly PolicyLayer[]): boolean {
  if (broken.length === 0) return false;
  const chain = new Set(
    own.flatMap((l) => (l.source.startsWith('policies.') ? [l.source.slice('policies.'.length)] : [])),
  );
  return broken.some((p) => {
    const [head, name] = p;
    if (head === undefined) return true;
    if (head === 'defaults') return true;
    if (head === 'targets') return name === undefined || name === target;
    if (head === 'policies') return name === undefined || chain.has(String(name));
    return false;
  });
}

/**
 * Validates a whole configuration (as read from a file, or built in code) and resolves every target's
 * policy: built-in defaults ← `defaults` ← `extends` chain ← the target's policy ← the target's `pool`.
 * Collects every problem before throwing one {@link ConfigError}.
 */
export function resolveConfig(input: unknown, options: ResolveConfigOptions = {}): ResolvedConfig {
  const file = options.file;
  const ctx: Context = { file, policies: {}, issues: [] };
  if (!isPlainObject(input)) {
    issue(
      ctx,
      [],
      input === undefined || input === null ? 'empty' : 'invalid_type',
      input === undefined || input === null
        ? 'The configuration is empty'
        : 'The configuration must be an object',
      'an object with version: 1 and targets',
    );
    throw new ConfigError(ctx.issues, file);
  }
  const { value, issues: envIssues } = interpolate(input, options.env ?? process.env, {
    file,
    coerceAt: isPolicyPath,
  });
  ctx.issues.push(...envIssues);
  const parsed = configSchema.safeParse(value, { reportInput: true });
  if (!parsed.success) {
    const schemaIssues = zodIssuesToConfigIssues(parsed.error.issues, { file, schema: configSchema });
    ctx.issues.push(...dropConsequences(envIssues, schemaIssues));
  }
  // With shape problems, references (extends, policy names) are still checked, and so are the cross-field
  // rules of every target whose own inputs are sound, so one run reports as much as it can.
  const shapePaths = ctx.issues.map((i) => i.path);

  // Merge the interpolated input, not zod's output: layers must stay in the input form (`unlimited`, `10s`).
  const config = value;
  ctx.policies = isPlainObject(config['policies'])
    ? Object.fromEntries(Object.entries(config['policies']).filter(([, v]) => isPlainObject(v)))
    : {};
  const defaults = isPlainObject(config['defaults']) ? config['defaults'] : undefined;
  const base: PolicyLayer[] = [
    ...defaultLayers(),
    ...(defaults ? [{ source: 'defaults' as const, value: normalizeInput(defaults) }] : []),
  ];

  // Every named policy's chain is checked, used or not: a cycle is an error even before a target uses it.
  for (const [name, named] of Object.entries(ctx.policies as Record<string, Record<string, unknown>>)) {
    if (typeof named['extends'] === 'string') {
      expandReference(ctx, named['extends'], ['policies', name, 'extends'], [name]);
    }
  }

  const targets: Record<string, ResolvedTarget> = {};
  const rawTargets = isPlainObject(config['targets']) ? config['targets'] : {};
  for (const [name, target] of Object.entries(rawTargets)) {
    if (!isPlainObject(target)) continue;
    const at: Path = ['targets', name];
    // A URL whose password was not percent-encoded would put part of it in the host: refused, never quoted.
    ctx.issues.push(...urlIssues(target['options'], [...at, 'options'], file));
    const policy = target['policy'];
    let own: PolicyLayer[] | undefined = [];
    if (typeof policy === 'string') {
      own = expandReference(ctx, policy, [...at, 'policy'], []);
    } else if (isPlainObject(policy)) {
      own = expandPolicy(ctx, policy, 'target', [...at, 'policy', 'extends'], []);
    }
    if (own === undefined || dependsOnBrokenInput(shapePaths, name, own)) continue;
    const pool = target['pool'];
    const layers = [
      ...base,
      ...own,
      ...(isPlainObject(pool) ? [{ source: 'target' as const, value: { pool } }] : []),
    ];
    const resolved = mergeAndValidate(ctx, layers, at, (field, source) => {
      if (source === 'defaults') return ['defaults', ...field];
      if (source?.startsWith('policies.') === true)
        return ['policies', source.slice('policies.'.length), ...field];
      // The target's `pool` key is merged last: a pool value written there won.
      if (source === 'target' && field[0] === 'pool' && isPlainObject(pool) && hasPath(pool, field.slice(1)))
        return [...at, 'pool', ...field.slice(1)];
      // The target's inline policy, or a preset / the built-in defaults (the message names which).
      return [...at, 'policy', ...field];
    });
    if (resolved === undefined) continue;
    const t: ResolvedTarget = {
      name,
      driver: target['driver'] as string,
      options: target['options'],
      required: target['required'] !== false,
      policy: resolved.policy,
      provenance: resolved.provenance,
      layers: resolved.layers,
    };
    if (typeof target['description'] === 'string') t.description = target['description'];
    targets[name] = t;
  }
  if (ctx.issues.length > 0) throw new ConfigError(dedupe(ctx.issues), file);
  const result: ResolvedConfig = { targets };
  if (file !== undefined) result.file = file;
  return result;
}

function hasPath(value: Record<string, unknown>, path: readonly (string | number)[]): boolean {
  let node: unknown = value;
  for (const key of path) {
    if (!isPlainObject(node) || !Object.prototype.hasOwnProperty.call(node, key)) return false;
    node = node[key];
  }
  return node !== undefined;
}

// A broken named policy is met again by every target that uses it; say it once.
function dedupe(issues: readonly ConfigIssue[]): ConfigIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key =
      i.kind === 'extends_cycle' ? `${i.kind}|${i.message}` : `${i.kind}|${i.path.join('.')}|${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Checks that `input` is shaped like a configuration file (no merging), for editors and tests. */
export function isConfigInput(input: unknown): input is ConfigInput {
  return configSchema.safeParse(input).success;
}
