// The query DSL subset the stand-in evaluates. No analysis, no scoring: `term` compares exact values
// (like a keyword field), `match` compares lower-cased whitespace tokens. Every hit scores 1.0.

/** Decides whether a document matches. */
export type Matcher = (source: unknown, id: string) => boolean;

/** A compiled query, or the reason it was refused (Elasticsearch answers 400 `parsing_exception`). */
export type CompiledQuery = { ok: true; match: Matcher } | { ok: false; reason: string };

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The values at a dotted path (arrays flattened); `x.keyword` reads `x`. */
function valuesAt(source: unknown, field: string): unknown[] {
  let current: unknown[] = [source];
  for (const part of field.replace(/\.keyword$/, '').split('.')) {
    const next: unknown[] = [];
    for (const value of current) {
      const child = isObject(value) ? value[part] : undefined;
      if (Array.isArray(child)) next.push(...(child as unknown[]));
      else if (child !== undefined && child !== null) next.push(child);
    }
    current = next;
  }
  return current;
}

/** Scalars compare by their text (`term: { n: '5' }` matches 5); objects only by identity. */
export const scalarText = (v: unknown): string | undefined =>
  typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint'
    ? String(v)
    : undefined;

const same = (a: unknown, b: unknown): boolean =>
  a === b || (scalarText(a) !== undefined && scalarText(a) === scalarText(b));

const tokens = (v: unknown): string[] => (scalarText(v) ?? '').toLowerCase().split(/\s+/).filter(Boolean);

/** Reads `{ field: value }` or `{ field: { <key>: value } }`. */
function fieldAndValue(body: unknown, key: string): [string, unknown] | undefined {
  if (!isObject(body)) return undefined;
  const entries = Object.entries(body).filter(([k]) => k !== 'boost' && k !== '_name');
  if (entries.length !== 1) return undefined;
  const [field, spec] = entries[0]!;
  return [field, isObject(spec) ? spec[key] : spec];
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]) : [v]);

/** Compiles a query DSL object (`undefined` is match_all). */
export function compileQuery(query: unknown): CompiledQuery {
  if (query === undefined) return { ok: true, match: () => true };
  if (!isObject(query) || Object.keys(query).length !== 1)
    return { ok: false, reason: 'query malformed, expected one query type' };
  const [type, body] = Object.entries(query)[0]!;
  switch (type) {
    case 'match_all':
      return { ok: true, match: () => true };
    case 'match_none':
      return { ok: true, match: () => false };
    case 'term': {
      const fv = fieldAndValue(body, 'value');
      if (fv === undefined) return { ok: false, reason: '[term] query malformed' };
      return { ok: true, match: (s) => valuesAt(s, fv[0]).some((v) => same(v, fv[1])) };
    }
    case 'terms': {
      const fv = fieldAndValue(body, 'value');
      if (fv === undefined || !Array.isArray(fv[1])) return { ok: false, reason: '[terms] query malformed' };
      const wanted = fv[1] as unknown[];
      return { ok: true, match: (s) => valuesAt(s, fv[0]).some((v) => wanted.some((w) => same(v, w))) };
    }
    case 'match': {
      const fv = fieldAndValue(body, 'query');
      if (fv === undefined) return { ok: false, reason: '[match] query malformed' };
      const wanted = tokens(fv[1]);
      return {
        ok: true,
        match: (s) => valuesAt(s, fv[0]).some((v) => tokens(v).some((t) => wanted.includes(t))),
      };
    }
    case 'ids': {
      const values = isObject(body) ? list(body.values).map(String) : [];
      return { ok: true, match: (_s, id) => values.includes(id) };
    }
    case 'exists': {
      const field = isObject(body) ? body.field : undefined;
      if (typeof field !== 'string') return { ok: false, reason: '[exists] query malformed' };
      return { ok: true, match: (s) => valuesAt(s, field).length > 0 };
    }
    case 'bool':
      return compileBool(body);
    default:
      return { ok: false, reason: `unknown query [${type}]` };
  }
}

function compileBool(body: unknown): CompiledQuery {
  if (!isObject(body)) return { ok: false, reason: '[bool] query malformed' };
  const compiled: Record<'must' | 'filter' | 'should' | 'must_not', Matcher[]> = {
    must: [],
    filter: [],
    should: [],
    must_not: [],
  };
  for (const clause of ['must', 'filter', 'should', 'must_not'] as const) {
    for (const q of list(body[clause])) {
      const c = compileQuery(q);
      if (!c.ok) return c;
      compiled[clause].push(c.match);
    }
  }
  const required = compiled.must.length + compiled.filter.length === 0 ? 1 : 0;
  const minimumShould = typeof body.minimum_should_match === 'number' ? body.minimum_should_match : required;
  return {
    ok: true,
    match: (s, id) =>
      [...compiled.must, ...compiled.filter].every((m) => m(s, id)) &&
      !compiled.must_not.some((m) => m(s, id)) &&
      (compiled.should.length === 0 || compiled.should.filter((m) => m(s, id)).length >= minimumShould),
  };
}

/** The URI search `q` parameter: `*`, `field:value` or a bare value (any top-level field equal to it). */
export function compileUriQuery(q: string): CompiledQuery {
  if (q === '*' || q === '*:*') return { ok: true, match: () => true };
  const colon = q.indexOf(':');
  if (colon > 0) return compileQuery({ term: { [q.slice(0, colon)]: q.slice(colon + 1) } });
  return {
    ok: true,
    match: (s) => isObject(s) && Object.values(s).some((v) => same(v, q)),
  };
}
