// Reading the policy schema itself: which keys an object accepts, what kind of value a field holds. Used for
// "did you mean" hints, type-specific issue wording, and printing values as a person writes them.
import type { z } from 'zod';
import { durationSchema, fractionSchema, resolvedPolicySchema } from './schema.js';

// The parts of zod's internal definitions the key lookup walks; kept loose on purpose.
interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  options?: { _zod: { def: Def } }[];
  valueType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  in?: { _zod: { def: Def } };
  out?: { _zod: { def: Def } };
  left?: { _zod: { def: Def } };
  right?: { _zod: { def: Def } };
}

// Every definition `path` can reach through optionals, unions, records, arrays and pipes
// (wrappers included, so a field's own schema is found as well as the object inside it).
function defsAt(def: Def, path: readonly PropertyKey[], out: Def[]): Def[] {
  if (path.length === 0) out.push(def);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'catch':
    case 'nonoptional':
      if (def.innerType) defsAt(def.innerType._zod.def, path, out);
      return out;
    case 'pipe':
      if (def.in) defsAt(def.in._zod.def, path, out);
      if (def.out) defsAt(def.out._zod.def, path, out);
      return out;
    case 'union':
      for (const o of def.options ?? []) defsAt(o._zod.def, path, out);
      return out;
    case 'intersection':
      if (def.left) defsAt(def.left._zod.def, path, out);
      if (def.right) defsAt(def.right._zod.def, path, out);
      return out;
    default:
      break;
  }
  if (path.length === 0) return out;
  const [head, ...rest] = path;
  if (def.type === 'object') {
    const child = typeof head === 'string' ? def.shape?.[head] : undefined;
    if (child) defsAt(child._zod.def, rest, out);
  } else if (def.type === 'record' && def.valueType) defsAt(def.valueType._zod.def, rest, out);
  else if (def.type === 'array' && def.element) defsAt(def.element._zod.def, rest, out);
  return out;
}

function objectDefsAt(def: Def, path: readonly PropertyKey[]): Def[] {
  return defsAt(def, path, []).filter((d) => d.type === 'object');
}

// Field types whose wrong-type issues are better said in their own words than "a number or a string".
const fieldTypes: { schema: z.ZodType; kind: string; message: string; expected: string }[] = [
  {
    schema: durationSchema,
    kind: 'invalid_duration',
    message: 'Invalid duration',
    expected: 'a duration like 250ms, 10s, 5m or 1h, or milliseconds ≥ 0',
  },
  {
    schema: fractionSchema,
    kind: 'invalid_percentage',
    message: 'Invalid percentage',
    expected: 'a percentage like 10% or a fraction from 0 to 1',
  },
];

/** The special field type (duration, percentage) of the field at `path`, with its wording for issues. */
export function fieldTypeAt(schema: z.ZodType | undefined, path: readonly PropertyKey[]) {
  if (schema === undefined) return undefined;
  const defs = defsAt(schema._zod.def, path, []);
  return fieldTypes.find((f) => defs.includes(f.schema._zod.def as unknown as Def));
}

/**
 * What the resolved policy field at `path` (`['retry', 'backoff', 'base']`) holds, read from the schema:
 * `duration` (milliseconds), `fraction` (0–1), or undefined for anything else. For printing values the
 * way a person writes them (`10s`, `20%`).
 */
export function policyValueKind(path: readonly PropertyKey[]): 'duration' | 'fraction' | undefined {
  const kind = fieldTypeAt(resolvedPolicySchema, path)?.kind;
  return kind === 'invalid_duration' ? 'duration' : kind === 'invalid_percentage' ? 'fraction' : undefined;
}

/** The keys a strict object at `path` inside `schema` accepts (empty when unknown). */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const defs = objectDefsAt(schema._zod.def, path);
  return [...new Set(defs.flatMap((d) => Object.keys(d.shape ?? {})))];
}
