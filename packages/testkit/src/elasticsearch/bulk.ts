import { autoId, invalidIndexName } from './document-store.js';
import { writeResult } from './document-routes.js';
import { badRequest, errorCause, esError, rejectedExecution, type EsResponse } from './es-errors.js';
import {
  electedMaster,
  liveDataNodes,
  wantsRefresh,
  writeRequest,
  type RestContext,
} from './rest-context.js';

type Action = 'index' | 'create' | 'delete' | 'update';
const actions = new Set<string>(['index', 'create', 'delete', 'update']);

interface BulkItem {
  action: Action;
  index: string | undefined;
  id: string | undefined;
  ifSeqNo: number | undefined;
  ifPrimaryTerm: number | undefined;
  source: unknown;
}

/** Parses the NDJSON body: an action line, then a source line for index/create/update. */
function parseBulk(text: string, defaultIndex: string | undefined): BulkItem[] | EsResponse {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const items: BulkItem[] = [];
  for (let i = 0; i < lines.length; i++) {
    let meta: unknown;
    try {
      meta = JSON.parse(lines[i]!);
    } catch {
      return badRequest(`Malformed action/metadata line [${i + 1}], expected START_OBJECT`);
    }
    const keys = typeof meta === 'object' && meta !== null ? Object.keys(meta) : [];
    const action = keys[0];
    if (keys.length !== 1 || action === undefined || !actions.has(action)) {
      return badRequest(
        `Malformed action/metadata line [${i + 1}], expected one of [create, delete, index, update]`,
      );
    }
    const m = ((meta as Record<string, unknown>)[action] ?? {}) as Record<string, unknown>;
    const item: BulkItem = {
      action: action as Action,
      index: typeof m._index === 'string' ? m._index : defaultIndex,
      id: typeof m._id === 'string' || typeof m._id === 'number' ? String(m._id) : undefined,
      ifSeqNo: typeof m.if_seq_no === 'number' ? m.if_seq_no : undefined,
      ifPrimaryTerm: typeof m.if_primary_term === 'number' ? m.if_primary_term : undefined,
      source: undefined,
    };
    if (action !== 'delete') {
      i++;
      if (i >= lines.length) return badRequest('The bulk request must be terminated by a newline [\\n]');
      try {
        item.source = JSON.parse(lines[i]!);
      } catch {
        return badRequest(`Malformed source line [${i + 1}]`, 'parse_exception');
      }
    }
    items.push(item);
  }
  if (items.length === 0) {
    return esError(400, 'action_request_validation_exception', 'Validation Failed: 1: no requests added;');
  }
  return items;
}

/**
 * `POST|PUT /_bulk`, `/{index}/_bulk`: every item runs on its own and reports its own status;
 * `errors` is true when any item failed. A `rejectBulkItems` fault fails the first items with 429
 * (not applied), as a node whose write queue is full does. `update` items are not implemented (400).
 */
export function bulk(ctx: RestContext, defaultIndex: string | undefined): EsResponse {
  const started = Date.now();
  if (electedMaster(ctx.cluster) === undefined) {
    return esError(503, 'cluster_block_exception', 'blocked by: [SERVICE_UNAVAILABLE/2/no master];');
  }
  const parsed = parseBulk(ctx.request.body.toString('utf8'), defaultIndex);
  if (!Array.isArray(parsed)) return parsed;
  const results: Record<string, unknown>[] = [];
  const touched = new Set<string>();
  parsed.forEach((item, position) => {
    const id = item.id ?? (item.action === 'index' || item.action === 'create' ? autoId() : undefined);
    const fail = (status: number, error: Record<string, unknown>): void => {
      results.push({ [item.action]: { _index: item.index ?? null, _id: id ?? null, status, error } });
    };
    if (item.index === undefined) {
      return fail(
        400,
        errorCause('action_request_validation_exception', 'Validation Failed: 1: index is missing;'),
      );
    }
    const invalid = invalidIndexName(item.index);
    if (invalid !== undefined) {
      return fail(
        400,
        errorCause('invalid_index_name_exception', `Invalid index name [${item.index}], ${invalid}`),
      );
    }
    if (position < ctx.bulkRejectItems) return fail(429, rejectedExecution());
    if (item.action === 'update') {
      return fail(
        400,
        errorCause('illegal_argument_exception', 'bulk update is not implemented by the testkit stand-in'),
      );
    }
    if (liveDataNodes(ctx.cluster) === 0) {
      return fail(
        503,
        errorCause(
          'unavailable_shards_exception',
          `[${item.index}][0] primary shard is not active Timeout: [1m]`,
        ),
      );
    }
    if (item.id === undefined && item.action === 'delete') {
      return fail(
        400,
        errorCause('action_request_validation_exception', 'Validation Failed: 1: id is missing;'),
      );
    }
    if (item.action === 'delete' && !ctx.store.indices.has(item.index)) {
      return fail(404, errorCause('index_not_found_exception', `no such index [${item.index}]`));
    }
    const outcome = ctx.store.write({
      action: item.action,
      index: item.index,
      id,
      source: item.source,
      ifSeqNo: item.ifSeqNo,
      ifPrimaryTerm: item.ifPrimaryTerm,
      autoId: item.id === undefined,
      request: writeRequest(ctx, position),
    });
    touched.add(item.index);
    if (outcome.ok) {
      results.push({ [item.action]: { ...writeResult(ctx, outcome), status: outcome.status } });
    } else if (outcome.status === 404) {
      results.push({ [item.action]: { _index: item.index, _id: id, result: 'not_found', status: 404 } });
    } else {
      fail(outcome.status, outcome.error);
    }
  });
  if (wantsRefresh(ctx.request.query)) {
    ctx.store.refresh([...touched].map((name) => ctx.store.indices.get(name)!).filter(Boolean));
  }
  // A delete of a missing document is a 404 item but not an error, as in Elasticsearch.
  const errors = results.some((r) => 'error' in (Object.values(r)[0] as object));
  return { status: 200, body: { errors, took: Date.now() - started, items: results } };
}
