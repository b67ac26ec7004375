import type { estypes } from '@elastic/elasticsearch';
import type { ExecuteOptions, Target } from '@reconnect/core';
import { classifyElasticsearchError, errorType } from './classify.js';
import type { ElasticsearchClient } from './client.js';
import { bulkWithRetries, type BulkOptions, type BulkResult } from './bulk.js';
import { clientIdsOf, newDocumentId, rawCreateOf } from './client-ids.js';
import { replayOf, type Replay } from './idempotency.js';

/** Per-call options: those of `execute`, with `idempotent` defaulting to the request's own verdict. */
export type ElasticsearchCallOptions = Omit<ExecuteOptions, 'name'>;

/**
 * A conditional write (`create`, `if_seq_no`) that was retried after an attempt whose answer was lost, and
 * whose retry the server refused with 409: the first attempt landed. The caller gets this instead of an error.
 */
export interface AlreadyApplied {
  readonly alreadyApplied: true;
  readonly _index: string;
  readonly _id: string;
  /** What the lost first attempt did. */
  readonly result: 'created' | 'updated' | 'deleted';
  /** The server's refusal of the retry (`version_conflict_engine_exception`, or 404 for a delete). */
  readonly reason: string;
}

/** A write's answer, or {@link AlreadyApplied}. */
export type WriteResult = estypes.WriteResponseBase | AlreadyApplied;

/** Whether a write's result says the write landed on an earlier attempt whose answer was lost. */
export function isAlreadyApplied(result: unknown): result is AlreadyApplied {
  return typeof result === 'object' && result !== null && (result as AlreadyApplied).alreadyApplied === true;
}

interface WriteTarget {
  index: string;
  id: string | undefined;
  result: AlreadyApplied['result'];
}

// A failure after which the request may have been applied (the answer was lost, or cut by a timeout).
function mayHaveLanded(error: unknown): boolean {
  const c = classifyElasticsearchError(error);
  if (c.sent === false) return false;
  return c.kind === 'connection' || c.kind === 'timeout' || c.kind === 'transient' || c.kind === 'unknown';
}

function statusOf(error: unknown): number | undefined {
  const meta = (error as { meta?: { statusCode?: unknown } } | null)?.meta;
  return typeof meta?.statusCode === 'number' ? meta.statusCode : undefined;
}

function alreadyAppliedFrom(error: unknown, write: WriteTarget): AlreadyApplied | undefined {
  const status = statusOf(error);
  const body = (error as { meta?: { body?: unknown } }).meta?.body;
  const type = errorType(body);
  const conflict = status === 409 && type === 'version_conflict_engine_exception';
  const gone = write.result === 'deleted' && status === 404;
  if (!conflict && !gone) return undefined;
  return {
    alreadyApplied: true,
    _index: write.index,
    _id: write.id ?? '',
    result: write.result,
    reason: type ?? String(status),
  };
}

/** `db.collection.name` of a request's `index`: the index, or a list as its path spells it (`a,b`). */
function collectionOf(index: unknown): string | undefined {
  if (typeof index === 'string') return index === '' ? undefined : index;
  if (Array.isArray(index) && index.length > 0 && index.every((i) => typeof i === 'string' && i !== ''))
    return index.join(',');
  return undefined;
}

/** `db.collection.name` of a raw request: its path's first segment, unless that is an endpoint (`_search`, `_bulk`). */
function collectionOfPath(path: string): string | undefined {
  const first = path.replace(/^\/+/, '').split(/[/?]/, 1)[0] ?? '';
  if (first === '' || first.startsWith('_')) return undefined;
  try {
    return decodeURIComponent(first);
  } catch {
    return first;
  }
}

/**
 * Runs one request through the target with the replay verdict: `unsafe` requests are never replayed after an
 * answer was lost; `conditional` ones are, and a 409 (404 for a delete) on such a retry is the first attempt's
 * success, reported as {@link AlreadyApplied}.
 */
function guarded<T>(
  target: Target<ElasticsearchClient>,
  name: string,
  collection: string | undefined,
  replay: Replay,
  options: ElasticsearchCallOptions,
  call: (client: ElasticsearchClient) => Promise<T>,
  write?: WriteTarget,
): Promise<T | AlreadyApplied> {
  let landedMaybe = false;
  return target.execute(
    async (client) => {
      try {
        return await call(client);
      } catch (error) {
        if (write !== undefined && replay === 'conditional' && landedMaybe) {
          const applied = alreadyAppliedFrom(error, write);
          if (applied !== undefined) return applied;
        }
        if (mayHaveLanded(error)) landedMaybe = true;
        throw error;
      }
    },
    {
      ...(collection === undefined ? {} : { collection }),
      ...options,
      idempotent: options.idempotent ?? replay !== 'unsafe',
      name,
    },
  );
}

/** A raw request: method, path, querystring and a JSON or NDJSON body. */
export interface RawRequest {
  method: string;
  path: string;
  querystring?: Record<string, unknown> | string;
  body?: unknown;
  bulkBody?: unknown[];
}

/** Requests sent through a target, each with the caller's signal and deadline, and idempotent or not by its own kind. */
export interface ElasticsearchRequests {
  readonly target: Target<ElasticsearchClient>;
  /** Any request (`client.transport.request`); idempotent per {@link replayOf}. */
  request<T = unknown>(params: RawRequest, options?: ElasticsearchCallOptions): Promise<T>;
  search<TDocument = unknown>(
    params: estypes.SearchRequest,
    options?: ElasticsearchCallOptions,
  ): Promise<estypes.SearchResponse<TDocument>>;
  count(params: estypes.CountRequest, options?: ElasticsearchCallOptions): Promise<estypes.CountResponse>;
  get<TDocument = unknown>(
    params: estypes.GetRequest,
    options?: ElasticsearchCallOptions,
  ): Promise<estypes.GetResponse<TDocument>>;
  mget<TDocument = unknown>(
    params: estypes.MgetRequest,
    options?: ElasticsearchCallOptions,
  ): Promise<estypes.MgetResponse<TDocument>>;
  /** Indexes a document: with an `id` idempotent; without one (the cluster makes the id) never replayed. */
  index<TDocument = unknown>(
    params: estypes.IndexRequest<TDocument>,
    options?: ElasticsearchCallOptions,
  ): Promise<WriteResult>;
  /** Creates a document (`_create/{id}`): retried, and a 409 after a lost answer is {@link AlreadyApplied}. */
  create<TDocument = unknown>(
    params: estypes.CreateRequest<TDocument>,
    options?: ElasticsearchCallOptions,
  ): Promise<WriteResult>;
  delete(params: estypes.DeleteRequest, options?: ElasticsearchCallOptions): Promise<WriteResult>;
  /** A bulk request whose retryable failed items (429, 503…) are resent, alone, within the policy; see {@link bulkWithRetries}. */
  bulk(operations: BulkOptions['operations'], options?: Omit<BulkOptions, 'operations'>): Promise<BulkResult>;
}

/**
 * Wraps an Elasticsearch target so each request is marked idempotent from what it is (like every operation's, its
 * requests follow their attempt: the caller's abort, the attempt timeout and the deadline reach the socket):
 *
 * ```ts
 * const es = elasticsearchRequests(manager.target('search'));
 * await es.search({ index: 'orders', query: { match_all: {} } }); // retried on another node
 * await es.index({ index: 'orders', id: 'o-1', document });      // PUT _doc/o-1: retried
 * await es.index({ index: 'orders', document });                 // POST _doc: sent at most once
 * await es.create({ index: 'orders', id: 'o-2', document });     // retried; a 409 after a lost answer is alreadyApplied
 * ```
 */
export function elasticsearchRequests(target: Target<ElasticsearchClient>): ElasticsearchRequests {
  return {
    target,
    request: <T>(params: RawRequest, options: ElasticsearchCallOptions = {}) => {
      const replay = replayOf(params.method, params.path, params.querystring);
      // With clientIds, POST /{index}/_doc becomes PUT /{index}/_create/{id}, the id made here, once per call.
      const created =
        replay === 'unsafe' && clientIdsOf(target) ? rawCreateOf(params.method, params.path) : undefined;
      const sent = created === undefined ? params : { ...params, method: created.method, path: created.path };
      return guarded(
        target,
        `${params.method.toUpperCase()} ${params.path}`,
        collectionOfPath(params.path),
        created === undefined ? replay : 'conditional',
        options,
        (client) =>
          client.transport.request<T>(sent as Parameters<ElasticsearchClient['transport']['request']>[0]),
        created === undefined ? undefined : { index: created.index, id: created.id, result: 'created' },
      ) as Promise<T>;
    },
    search: <TDocument>(params: estypes.SearchRequest, options: ElasticsearchCallOptions = {}) =>
      guarded(target, 'search', collectionOf(params.index), 'idempotent', options, (client) =>
        client.search<TDocument>(params),
      ) as Promise<estypes.SearchResponse<TDocument>>,
    count: (params, options = {}) =>
      guarded(target, 'count', collectionOf(params.index), 'idempotent', options, (client) =>
        client.count(params),
      ) as Promise<estypes.CountResponse>,
    get: <TDocument>(params: estypes.GetRequest, options: ElasticsearchCallOptions = {}) =>
      guarded(target, 'get', collectionOf(params.index), 'idempotent', options, (client) =>
        client.get<TDocument>(params),
      ) as Promise<estypes.GetResponse<TDocument>>,
    mget: <TDocument>(params: estypes.MgetRequest, options: ElasticsearchCallOptions = {}) =>
      guarded(target, 'mget', collectionOf(params.index), 'idempotent', options, (client) =>
        client.mget<TDocument>(params),
      ) as Promise<estypes.MgetResponse<TDocument>>,
    index: <TDocument>(params: estypes.IndexRequest<TDocument>, options: ElasticsearchCallOptions = {}) => {
      if (params.id === undefined && clientIdsOf(target)) {
        // clientIds: the id is made here, once per call, so every attempt sends the same one, as a create.
        const id = newDocumentId();
        return guarded(
          target,
          'index (client id)',
          collectionOf(params.index),
          'conditional',
          options,
          (client) => client.index<TDocument>({ ...params, id, op_type: 'create' }),
          { index: params.index, id, result: 'created' },
        );
      }
      const replay: Replay =
        params.id === undefined
          ? 'unsafe'
          : params.op_type === 'create' || params.if_seq_no !== undefined
            ? 'conditional'
            : 'idempotent';
      return guarded(
        target,
        params.id === undefined ? 'index (POST _doc)' : 'index',
        collectionOf(params.index),
        replay,
        options,
        (client) => client.index<TDocument>(params),
        { index: params.index, id: params.id, result: params.op_type === 'create' ? 'created' : 'updated' },
      );
    },
    create: <TDocument>(params: estypes.CreateRequest<TDocument>, options: ElasticsearchCallOptions = {}) =>
      guarded(
        target,
        'create',
        collectionOf(params.index),
        'conditional',
        options,
        (client) => client.create<TDocument>(params),
        {
          index: params.index,
          id: params.id,
          result: 'created',
        },
      ),
    delete: (params, options = {}) =>
      guarded(
        target,
        'delete',
        collectionOf(params.index),
        // A replayed delete answers 404 after a lost first answer: reported as already applied.
        'conditional',
        options,
        (client) => client.delete(params),
        { index: params.index, id: params.id, result: 'deleted' },
      ),
    bulk: (operations, options = {}) => bulkWithRetries(target, { ...options, operations }),
  };
}
