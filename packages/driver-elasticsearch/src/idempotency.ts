// Whether an Elasticsearch request may be sent twice, judged per request as driver-redis judges per command.
// "Idempotent" here means a replay after a lost answer cannot leave a second document or a second change behind:
// reads, writes to an explicit id, and writes guarded by a condition (create, if_seq_no) whose replay is refused
// with a 409 that the request helpers turn into "already applied".

/** How a request's replay behaves. */
export type Replay =
  /** A replay changes nothing more (reads, PUT _doc/{id}, DELETE _doc/{id}). */
  | 'idempotent'
  /** A replay is refused by the server with 409 when the first attempt landed (create, if_seq_no). */
  | 'conditional'
  /** A replay may apply the change twice (POST _doc without id, _update with a script, _update_by_query). */
  | 'unsafe';

// Endpoints that only read, whatever the method (POST is used for request bodies). Typed to take a path without an
// endpoint (`undefined`), which it never holds.
const readEndpoints: ReadonlySet<string | undefined> = new Set([
  '_search',
  '_count',
  '_mget',
  '_msearch',
  '_explain',
  '_field_caps',
  '_termvectors',
  '_mtermvectors',
  '_validate',
  '_search_shards',
  '_rank_eval',
  '_knn_search',
  '_terms_enum',
  '_async_search',
  '_sql',
  '_eql',
  '_cat',
  '_cluster',
  '_nodes',
  '_mapping',
  '_mappings',
  '_settings',
  '_alias',
  '_aliases',
  '_stats',
  '_segments',
  '_recovery',
  '_resolve',
  '_refresh',
  '_flush',
  '_forcemerge',
  '_cache',
]);
function hasCondition(querystring: string | URLSearchParams | Record<string, unknown> | undefined): boolean {
  if (querystring === undefined) return false;
  const q =
    querystring instanceof URLSearchParams
      ? querystring
      : typeof querystring === 'string'
        ? new URLSearchParams(querystring) // which drops a leading '?' itself
        : new URLSearchParams(
            Object.entries(querystring)
              .filter(([, v]) => v !== undefined && v !== null)
              .map(([k, v]): [string, string] => [k, String(v)]),
          );
  return q.has('if_seq_no') || q.get('op_type') === 'create';
}

/**
 * How a replay of `method path?querystring` behaves:
 * - `GET`/`HEAD`, and `POST` to a read endpoint (`_search`, `_count`, `_mget`, `_msearch`, …): idempotent;
 * - `PUT|POST /{index}/_doc/{id}` and `DELETE /{index}/_doc/{id}`, `PUT /{index}`, `DELETE /{index}`: idempotent;
 * - `PUT|POST /{index}/_create/{id}`, `op_type=create`, `if_seq_no=…`: conditional (a replay answers 409);
 * - `POST /{index}/_doc` (the cluster makes the id), `_update` without `if_seq_no`, `_bulk`,
 *   `_update_by_query`, `_delete_by_query`, `_reindex`, and anything not listed: unsafe.
 */
export function replayOf(
  method: string,
  path: string,
  querystring?: string | URLSearchParams | Record<string, unknown>,
): Replay {
  const m = method.toUpperCase();
  if (m === 'GET' || m === 'HEAD') return 'idempotent';
  const segments = path
    .split('?')[0]!
    .split('/')
    .filter((s) => s !== '');
  // Changes by a delta or a script (`_update_by_query`, `_delete_by_query`, `_reindex`, `_bulk`, `_rollover`) are
  // not listed anywhere below: unsafe, like anything else not listed.
  const endpoint = segments.find((s) => s.startsWith('_'));
  const conditional = hasCondition(querystring ?? path.split('?')[1]);
  if (readEndpoints.has(endpoint)) return 'idempotent';
  if (endpoint === '_create') return 'conditional';
  if (endpoint === '_doc') {
    const hasId = segments[segments.indexOf(endpoint) + 1] !== undefined;
    if (!hasId) return 'unsafe'; // POST /{index}/_doc: every replay makes a new document
    if (conditional) return 'conditional';
    return m === 'PUT' || m === 'POST' || m === 'DELETE' ? 'idempotent' : 'unsafe';
  }
  if (endpoint === '_update') return conditional ? 'conditional' : 'unsafe';
  if (endpoint === undefined && segments.length === 1 && (m === 'PUT' || m === 'DELETE')) return 'idempotent';
  return 'unsafe';
}

/** Whether the request may be retried after a failure that may have reached the server. */
export function isIdempotentRequest(
  method: string,
  path: string,
  querystring?: string | URLSearchParams | Record<string, unknown>,
): boolean {
  return replayOf(method, path, querystring) !== 'unsafe';
}

/** One bulk item's action, as written in the NDJSON action line. */
export type BulkAction = 'index' | 'create' | 'delete' | 'update';

/** Whether one bulk item may be resent after a round whose answer was lost. */
export function bulkItemReplay(action: BulkAction, meta: Record<string, unknown>): Replay {
  const conditional = meta.if_seq_no !== undefined;
  if (action === 'create') return 'conditional';
  if (action === 'delete') return conditional ? 'conditional' : 'idempotent';
  if (action === 'index') {
    if (meta._id === undefined || meta._id === null) return 'unsafe';
    return conditional ? 'conditional' : 'idempotent';
  }
  return conditional ? 'conditional' : 'unsafe';
}
