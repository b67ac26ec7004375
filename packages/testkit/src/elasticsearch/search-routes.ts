import type { EsIndex, StoredDoc } from './document-store.js';
import { badRequest, esError, indexNotFound, type EsResponse } from './es-errors.js';
import { compileQuery, compileUriQuery, scalarText, type CompiledQuery } from './query.js';
import { jsonBody, readBlock, type RestContext } from './rest-context.js';

interface SearchBody {
  query?: unknown;
  from?: number;
  size?: number;
  sort?: unknown;
  seq_no_primary_term?: boolean;
  version?: boolean;
  _source?: boolean;
}

function resolveForRead(ctx: RestContext, expr: string | undefined): EsIndex[] | EsResponse {
  const ignore = ctx.request.query.get('ignore_unavailable') === 'true';
  const resolved = ctx.store.resolve(expr, ignore);
  if (!Array.isArray(resolved)) return indexNotFound(resolved.missing);
  return resolved;
}

function prepare(
  ctx: RestContext,
  expr: string | undefined,
): { indices: EsIndex[]; body: SearchBody; query: CompiledQuery } | EsResponse {
  const indices = resolveForRead(ctx, expr);
  if (!Array.isArray(indices)) return indices;
  const blocked = indices.length > 0 ? readBlock(ctx, indices[0]!.name) : undefined;
  if (blocked !== undefined) return blocked;
  const parsed = jsonBody(ctx);
  if (!parsed.ok) return parsed.response;
  const body = (parsed.value ?? {}) as SearchBody;
  const q = ctx.request.query.get('q');
  const query = q !== null ? compileUriQuery(q) : compileQuery(body.query);
  return { indices, body, query };
}

const shardsOf = (indices: readonly EsIndex[]) => ({
  total: indices.length,
  successful: indices.length,
  skipped: 0,
  failed: 0,
});

type Hit = { index: EsIndex; doc: StoredDoc };

function matching(indices: readonly EsIndex[], query: Extract<CompiledQuery, { ok: true }>): Hit[] {
  const hits: Hit[] = [];
  for (const index of indices) {
    for (const doc of index.searchable) if (query.match(doc.source, doc.id)) hits.push({ index, doc });
  }
  return hits;
}

/** `[{ field: 'asc' | 'desc' | { order } }]`, `'field:desc'`, or `'field'`; undefined if unreadable. */
function sortKeys(sort: unknown): { field: string; desc: boolean }[] | undefined {
  const list = sort === undefined ? [] : Array.isArray(sort) ? (sort as unknown[]) : [sort];
  const keys: { field: string; desc: boolean }[] = [];
  for (const item of list) {
    if (typeof item === 'string') {
      const [field = '', order] = item.split(':');
      keys.push({ field, desc: order === 'desc' });
    } else if (typeof item === 'object' && item !== null && Object.keys(item).length === 1) {
      const [field, spec] = Object.entries(item as Record<string, unknown>)[0]!;
      const order = typeof spec === 'string' ? spec : (spec as { order?: string }).order;
      keys.push({ field, desc: order === 'desc' });
    } else return undefined;
  }
  return keys;
}

function sortValue(hit: Hit, field: string): unknown {
  if (field === '_doc') return hit.doc.seqNo;
  if (field === '_id') return hit.doc.id;
  let v: unknown = hit.doc.source;
  for (const part of field.replace(/\.keyword$/, '').split('.'))
    v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[part] : undefined;
  return v;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === undefined || a === null) return 1; // missing values last, as `missing: _last`
  if (b === undefined || b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return (scalarText(a) ?? '') < (scalarText(b) ?? '') ? -1 : 1;
}

/** `GET|POST /_search`, `/{index}/_search`: over the refreshed documents; `from`, `size`, `sort`, `q`. */
export function search(ctx: RestContext, expr: string | undefined): EsResponse {
  const started = Date.now();
  const prepared = prepare(ctx, expr);
  if (!('indices' in prepared)) return prepared;
  const { indices, body, query } = prepared;
  if (!query.ok) return esError(400, 'parsing_exception', query.reason);
  const keys = sortKeys(ctx.request.query.get('sort') ?? body.sort);
  if (keys === undefined) return badRequest('sort malformed');
  const from = Number(ctx.request.query.get('from') ?? body.from ?? 0);
  const size = Number(ctx.request.query.get('size') ?? body.size ?? 10);
  if (!Number.isInteger(from) || !Number.isInteger(size) || from < 0 || size < 0) {
    return badRequest('[from] and [size] must be non-negative integers');
  }
  const hits = matching(indices, query);
  if (keys.length > 0) {
    hits.sort((x, y) => {
      for (const k of keys) {
        const c = compare(sortValue(x, k.field), sortValue(y, k.field));
        if (c !== 0) return k.desc ? -c : c;
      }
      return 0;
    });
  }
  const sorted = keys.length > 0;
  return {
    status: 200,
    body: {
      took: Date.now() - started,
      timed_out: false,
      _shards: shardsOf(indices),
      hits: {
        total: { value: hits.length, relation: 'eq' },
        max_score: hits.length === 0 || sorted ? null : 1,
        hits: hits.slice(from, from + size).map((h) => ({
          _index: h.index.name,
          _id: h.doc.id,
          _score: sorted ? null : 1,
          ...(body.version === true ? { _version: h.doc.version } : {}),
          ...(body.seq_no_primary_term === true
            ? { _seq_no: h.doc.seqNo, _primary_term: h.doc.primaryTerm }
            : {}),
          ...(body._source === false ? {} : { _source: h.doc.source }),
          ...(sorted ? { sort: keys.map((k) => sortValue(h, k.field) ?? null) } : {}),
        })),
      },
    },
  };
}

/** `GET|POST /_count`, `/{index}/_count`. */
export function count(ctx: RestContext, expr: string | undefined): EsResponse {
  const prepared = prepare(ctx, expr);
  if (!('indices' in prepared)) return prepared;
  const { indices, query } = prepared;
  if (!query.ok) return esError(400, 'parsing_exception', query.reason);
  return { status: 200, body: { count: matching(indices, query).length, _shards: shardsOf(indices) } };
}

/** `GET|POST /_refresh`, `/{index}/_refresh`: makes every write so far searchable. */
export function refresh(ctx: RestContext, expr: string | undefined): EsResponse {
  const indices = resolveForRead(ctx, expr);
  if (!Array.isArray(indices)) return indices;
  ctx.store.refresh(indices);
  const total = indices.reduce((n, i) => n + 1 + i.replicas, 0);
  return { status: 200, body: { _shards: { total, successful: indices.length, failed: 0 } } };
}
