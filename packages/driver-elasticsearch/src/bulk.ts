import type { estypes } from '@elastic/elasticsearch';
import {
  isReconnectError,
  matchesRetryOn,
  parseDuration,
  retryDelay,
  type ExecuteOptions,
  type Target,
} from '@reconnect/core';
import { classifyElasticsearchError, classifyResponse } from './classify.js';
import type { ElasticsearchClient } from './client.js';
import { bulkItemReplay, type BulkAction, type Replay } from './idempotency.js';

/** Options of {@link bulkWithRetries}. */
export interface BulkOptions {
  /** As for `client.bulk`: action lines (`{ index: { _index, _id } }`), each followed by its document (not for delete). */
  operations: readonly unknown[];
  /** The default index of items without `_index`. */
  index?: string;
  refresh?: estypes.Refresh;
  /** The caller's signal: ends the rounds (items not yet applied are `not_sent` or `unknown`). */
  signal?: AbortSignal;
  /** Over every round; default the policy's `retry.deadline`. */
  deadline?: number | string;
  /** Per round's request; default the policy's `retry.attemptTimeout`. */
  attemptTimeout?: number | string;
}

/** What happened to one item, in the order given. */
export type BulkItemOutcome =
  /** Applied (2xx, or a delete of a missing document: 404 `not_found`). */
  | 'applied'
  /** A create / `if_seq_no` item refused with 409 after a round whose answer was lost: that round applied it. */
  | 'already_applied'
  /** Refused for good (4xx, or a retryable failure left when retries or the deadline ran out). */
  | 'failed'
  /** The last round's answer was lost: it may or may not have been applied (never resent when unsafe). */
  | 'unknown'
  /** Provably never applied (the request was never sent). */
  | 'not_sent';

/** One item's result. */
export interface BulkItemResult {
  action: BulkAction;
  index: string | undefined;
  id: string | undefined;
  outcome: BulkItemOutcome;
  /** The item's last status (undefined when no answer came for it). */
  status: number | undefined;
  /** `created`, `updated`, `deleted`, `not_found`, `noop`. */
  result: string | undefined;
  /** The item's last error: the item error object from the answer, or the request's error. */
  error: unknown;
  /** In how many rounds the item was sent. */
  attempts: number;
}

/** The per-item results of {@link bulkWithRetries}. */
export interface BulkResult {
  items: BulkItemResult[];
  /** True when some item is not `applied` / `already_applied`. */
  errors: boolean;
  /** How many bulk requests were answered or attempted (rounds). */
  rounds: number;
}

interface Item {
  action: BulkAction;
  meta: Record<string, unknown>;
  doc: unknown;
  hasDoc: boolean;
  replay: Replay;
  /** A round's answer was lost with this item in it. */
  landedMaybe: boolean;
  result: BulkItemResult;
}

const actions = new Set<string>(['index', 'create', 'delete', 'update']);

/** Splits `operations` into items (an action line, then a document except for delete). */
export function parseBulkOperations(operations: readonly unknown[], defaultIndex?: string): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < operations.length; i++) {
    const line = operations[i];
    const keys = typeof line === 'object' && line !== null ? Object.keys(line) : [];
    const action = keys[0];
    if (keys.length !== 1 || action === undefined || !actions.has(action))
      throw new TypeError(
        `bulk: operations[${i}] is not an action line ({ index | create | delete | update: {…} })`,
      );
    const meta = ((line as Record<string, unknown>)[action] ?? {}) as Record<string, unknown>;
    const hasDoc = action !== 'delete';
    const doc = hasDoc ? operations[++i] : undefined;
    if (hasDoc && i >= operations.length)
      throw new TypeError(`bulk: the ${action} at operations[${i - 1}] has no document`);
    const a = action as BulkAction;
    const id = typeof meta._id === 'string' || typeof meta._id === 'number' ? String(meta._id) : undefined;
    const index = typeof meta._index === 'string' ? meta._index : defaultIndex;
    items.push({
      action: a,
      meta,
      doc,
      hasDoc,
      replay: bulkItemReplay(a, meta),
      landedMaybe: false,
      result: {
        action: a,
        index,
        id,
        outcome: 'not_sent',
        status: undefined,
        result: undefined,
        error: undefined,
        attempts: 0,
      },
    });
  }
  return items;
}

const isAborted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

const ms = (value: number | string | undefined, fallback: number): number =>
  value === undefined ? fallback : (parseDuration(value) ?? fallback);

function abortable(delay: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, delay);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * A bulk request that resends only the items that failed with a retryable status (429 `es_rejected_execution`,
 * 503 `unavailable_shards`, or what the policy's `retryOn` lists), alone, for at most `retry.maxRetries` more
 * rounds, backing off between rounds, within the deadline. Items that succeeded are never resent. Each round is
 * one `execute` on the target: a round whose answer is lost is retried whole only when every item in it is safe to
 * replay (no index without `_id`), and a create / `if_seq_no` item that then answers 409 is `already_applied`.
 * Resolves with every item's result; it does not reject for item failures.
 */
export async function bulkWithRetries(
  target: Target<ElasticsearchClient>,
  options: BulkOptions,
): Promise<BulkResult> {
  const policy = target.policy.retry;
  const items = parseBulkOperations(options.operations, options.index);
  const started = performance.now();
  const deadline = ms(options.deadline, policy.deadline);
  const deadlineAt = deadline > 0 ? started + deadline : Number.POSITIVE_INFINITY;
  let pending = items;
  let rounds = 0;
  let prevDelay: number | undefined;
  for (let round = 1; pending.length > 0; round++) {
    rounds = round;
    const sent = pending;
    const body = sent.flatMap((item) =>
      item.hasDoc ? [{ [item.action]: item.meta }, item.doc] : [{ [item.action]: item.meta }],
    );
    const remaining = deadlineAt - performance.now();
    const executeOptions: ExecuteOptions = {
      name: 'bulk',
      idempotent: sent.every((item) => item.replay !== 'unsafe'),
      ...(Number.isFinite(remaining) ? { deadline: Math.max(1, Math.floor(remaining)) } : {}),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.attemptTimeout === undefined ? {} : { attemptTimeout: options.attemptTimeout }),
    };
    for (const item of sent) item.result.attempts++;
    let answer: estypes.BulkResponse;
    try {
      answer = await target.execute(async (client, ctx) => {
        try {
          return await client.bulk(
            {
              operations: body,
              ...(options.index === undefined ? {} : { index: options.index }),
              ...(options.refresh === undefined ? {} : { refresh: options.refresh }),
            },
            { signal: ctx.signal },
          );
        } catch (error) {
          if (classifyElasticsearchError(error).sent !== false)
            for (const item of sent) item.landedMaybe = true;
          throw error;
        }
      }, executeOptions);
    } catch (error) {
      const notSent = isReconnectError(error) && error.outcome === 'not_sent';
      for (const item of sent) {
        item.result.error = error;
        // An item that a lost earlier round may have applied stays unknown, whatever this round's error says.
        item.result.outcome = item.landedMaybe || !notSent ? 'unknown' : 'not_sent';
        if (!item.landedMaybe && notSent) item.result.outcome = 'not_sent';
      }
      break;
    }

    const retry: Item[] = [];
    let hint: number | undefined;
    answer.items.forEach((entry, k) => {
      const item = sent[k];
      if (item === undefined) return;
      const r = Object.values(entry)[0];
      const status = r?.status;
      item.result.status = status;
      item.result.result = r?.result;
      if (r?._id !== undefined && r._id !== null) item.result.id = r._id;
      if (r?._index !== undefined) item.result.index = r._index;
      item.result.error = r?.error;
      if (status === undefined) {
        item.result.outcome = 'unknown';
        return;
      }
      if (status < 300 || (item.action === 'delete' && status === 404)) {
        item.result.outcome = 'applied';
        item.result.error = undefined;
        return;
      }
      if (status === 409 && item.replay === 'conditional' && item.landedMaybe) {
        item.result.outcome = 'already_applied';
        return;
      }
      const c = classifyResponse(status, { error: r?.error }, undefined);
      const replayable = c.sent === false || item.replay !== 'unsafe';
      if (matchesRetryOn(policy.retryOn, c) && replayable) {
        retry.push(item);
        if (c.retryAfterMs !== undefined) hint = Math.max(hint ?? 0, c.retryAfterMs);
      }
      item.result.outcome = 'failed';
    });
    if (retry.length === 0 || round > policy.maxRetries) break;
    const delay = retryDelay(policy.backoff, policy.delay, round, prevDelay, Math.random, hint);
    prevDelay = delay;
    if (performance.now() + delay >= deadlineAt || isAborted(options.signal)) break;
    await abortable(delay, options.signal);
    if (isAborted(options.signal)) break;
    pending = retry;
  }
  const errors = items.some((i) => i.result.outcome !== 'applied' && i.result.outcome !== 'already_applied');
  return { items: items.map((i) => i.result), errors, rounds };
}
