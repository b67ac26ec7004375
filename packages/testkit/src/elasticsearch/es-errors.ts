// Elasticsearch's error bodies: `{ error: { root_cause, type, reason, … }, status }`, the shape the
// client's ResponseError reads (`meta.body.error.type`, `caused_by`).

/** A response the REST layer produces: a status and a JSON body (undefined for an empty body). */
export interface EsResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** Extra fields of an error cause (`index`, `resource.id`, …). */
export type ErrorFields = Record<string, unknown>;

/** The error object of an Elasticsearch error body (also used for bulk item failures). */
export function errorCause(type: string, reason: string, fields: ErrorFields = {}): Record<string, unknown> {
  return { type, reason, ...fields };
}

/** A complete error response. */
export function esError(
  status: number,
  type: string,
  reason: string,
  fields: ErrorFields = {},
  causedBy?: Record<string, unknown>,
): EsResponse {
  const cause = errorCause(type, reason, fields);
  return {
    status,
    body: {
      error: { root_cause: [cause], ...cause, ...(causedBy === undefined ? {} : { caused_by: causedBy }) },
      status,
    },
  };
}

/** 404 `index_not_found_exception`, as for a GET or search on a missing index. */
export function indexNotFound(index: string): EsResponse {
  return esError(404, 'index_not_found_exception', `no such index [${index}]`, {
    'resource.type': 'index_or_alias',
    'resource.id': index,
    index_uuid: '_na_',
    index,
  });
}

/** 400 for a request the stand-in does not implement (or Elasticsearch would not parse). */
export function badRequest(reason: string, type = 'illegal_argument_exception'): EsResponse {
  return esError(400, type, reason);
}

/** 503 `unavailable_shards_exception`: the shard has no live copy. */
export function unavailableShards(index: string, reason?: string): EsResponse {
  return esError(
    503,
    'unavailable_shards_exception',
    reason ?? `[${index}][0] primary shard is not active Timeout: [1m], request: [testkit]`,
    { index },
  );
}

/** 429 `es_rejected_execution_exception` (the write thread pool's queue is full). */
export function rejectedExecution(): Record<string, unknown> {
  return errorCause(
    'es_rejected_execution_exception',
    'rejected execution of coordinating operation [testkit fault]: queue capacity [10000] is full',
  );
}
