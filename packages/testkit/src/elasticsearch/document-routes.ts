import { invalidIndexName, type WriteOutcome } from './document-store.js';
import { badRequest, esError, indexNotFound, type EsResponse } from './es-errors.js';
import {
  intParam,
  jsonBody,
  readBlock,
  wantsRefresh,
  writeBlock,
  writeRequest,
  writeShards,
  type RestContext,
} from './rest-context.js';

/** The body of an applied write (index, create, delete), as Elasticsearch and bulk items report it. */
export function writeResult(
  ctx: RestContext,
  outcome: Extract<WriteOutcome, { ok: true }>,
): Record<string, unknown> {
  const e = outcome.entry;
  const index = ctx.store.indices.get(e.index)!;
  return {
    _index: e.index,
    _id: e.id,
    _version: e.version,
    result: e.result,
    _shards: writeShards(ctx, index),
    _seq_no: e.seqNo,
    _primary_term: e.primaryTerm,
  };
}

function invalidIndex(index: string): EsResponse | undefined {
  const reason = invalidIndexName(index);
  if (reason === undefined) return undefined;
  return esError(400, 'invalid_index_name_exception', `Invalid index name [${index}], ${reason}`, {
    index_uuid: '_na_',
    index,
  });
}

function outcomeResponse(ctx: RestContext, outcome: WriteOutcome): EsResponse {
  if (!outcome.ok) {
    if (outcome.status === 404) {
      const index = ctx.store.indices.get(outcome.index)!;
      return {
        status: 404,
        body: {
          _index: outcome.index,
          _id: outcome.id,
          _version: 1,
          result: 'not_found',
          _shards: writeShards(ctx, index),
          _seq_no: index.docs.size,
          _primary_term: index.primaryTerm,
        },
      };
    }
    return esError(outcome.status, String(outcome.error.type), String(outcome.error.reason), {
      index_uuid: outcome.error.index_uuid,
      shard: outcome.error.shard,
      index: outcome.index,
    });
  }
  const body = writeResult(ctx, outcome);
  if (wantsRefresh(ctx.request.query)) {
    ctx.store.refresh([ctx.store.indices.get(outcome.entry.index)!]);
    if (ctx.request.query.get('refresh') !== 'wait_for') body.forced_refresh = true;
  }
  return { status: outcome.status, body };
}

/**
 * `PUT|POST /{index}/_doc/{id}`, `POST /{index}/_doc` (a generated id: a replay makes a second
 * document), `PUT|POST /{index}/_create/{id}` (409 when it exists); `op_type`, `if_seq_no`,
 * `if_primary_term` and `refresh` are honoured.
 */
export function indexDocument(
  ctx: RestContext,
  index: string,
  id: string | undefined,
  create: boolean,
): EsResponse {
  const invalid = invalidIndex(index) ?? writeBlock(ctx, index);
  if (invalid !== undefined) return invalid;
  const body = jsonBody(ctx);
  if (!body.ok) return body.response;
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    return esError(400, 'mapper_parsing_exception', 'failed to parse, document is empty or not an object');
  }
  const q = ctx.request.query;
  const ifSeqNo = intParam(q, 'if_seq_no');
  const ifPrimaryTerm = intParam(q, 'if_primary_term');
  if (Number.isNaN(ifSeqNo) || Number.isNaN(ifPrimaryTerm))
    return badRequest('if_seq_no and if_primary_term must be numbers');
  if ((ifSeqNo === undefined) !== (ifPrimaryTerm === undefined)) {
    return esError(
      400,
      'action_request_validation_exception',
      'Validation Failed: 1: ifSeqNo is set, but primary term is [0];',
    );
  }
  const opType = q.get('op_type');
  return outcomeResponse(
    ctx,
    ctx.store.write({
      action: create || opType === 'create' ? 'create' : 'index',
      index,
      id,
      source: body.value,
      ifSeqNo,
      ifPrimaryTerm,
      request: writeRequest(ctx),
    }),
  );
}

/** `DELETE /{index}/_doc/{id}`: 200 `deleted`, 404 `not_found`. */
export function deleteDocument(ctx: RestContext, index: string, id: string): EsResponse {
  if (!ctx.store.indices.has(index)) return indexNotFound(index);
  const blocked = writeBlock(ctx, index);
  if (blocked !== undefined) return blocked;
  const q = ctx.request.query;
  return outcomeResponse(
    ctx,
    ctx.store.write({
      action: 'delete',
      index,
      id,
      ifSeqNo: intParam(q, 'if_seq_no'),
      ifPrimaryTerm: intParam(q, 'if_primary_term'),
      request: writeRequest(ctx),
    }),
  );
}

/** `GET|HEAD /{index}/_doc/{id}`: real time (sees writes before a refresh), like Elasticsearch. */
export function getDocument(ctx: RestContext, index: string, id: string): EsResponse {
  const idx = ctx.store.indices.get(index);
  if (idx === undefined) return indexNotFound(index);
  const blocked = readBlock(ctx, index);
  if (blocked !== undefined) return blocked;
  const doc = ctx.store.get(idx, id);
  if (doc === undefined) return { status: 404, body: { _index: index, _id: id, found: false } };
  return {
    status: 200,
    body: {
      _index: index,
      _id: id,
      _version: doc.version,
      _seq_no: doc.seqNo,
      _primary_term: doc.primaryTerm,
      found: true,
      _source: doc.source,
    },
  };
}

/** `PUT /{index}` (settings.number_of_replicas honoured), `DELETE /{index}`, `HEAD|GET /{index}`. */
export function indexAdmin(ctx: RestContext, index: string): EsResponse {
  const existing = ctx.store.indices.get(index);
  switch (ctx.request.method) {
    case 'PUT': {
      const invalid = invalidIndex(index) ?? writeBlock(ctx, index);
      if (invalid !== undefined) return invalid;
      if (existing !== undefined) {
        return esError(
          400,
          'resource_already_exists_exception',
          `index [${index}/${existing.uuid}] already exists`,
          {
            index_uuid: existing.uuid,
            index,
          },
        );
      }
      const body = jsonBody(ctx);
      if (!body.ok) return body.response;
      const settings = (body.value as { settings?: Record<string, unknown> } | undefined)?.settings ?? {};
      const nested = (settings.index ?? {}) as Record<string, unknown>;
      const replicas = Number(settings.number_of_replicas ?? nested.number_of_replicas ?? 1);
      ctx.store.createIndex(index, Number.isInteger(replicas) && replicas >= 0 ? replicas : 1);
      return { status: 200, body: { acknowledged: true, shards_acknowledged: true, index } };
    }
    case 'DELETE': {
      const resolved = ctx.store.resolve(index);
      if (!Array.isArray(resolved)) return indexNotFound(resolved.missing);
      for (const i of resolved) ctx.store.indices.delete(i.name);
      return { status: 200, body: { acknowledged: true } };
    }
    default: {
      if (existing === undefined) return indexNotFound(index);
      return {
        status: 200,
        body: {
          [index]: {
            aliases: {},
            mappings: {},
            settings: {
              index: {
                number_of_shards: '1',
                number_of_replicas: String(existing.replicas),
                uuid: existing.uuid,
                provided_name: index,
              },
            },
          },
        },
      };
    }
  }
}
