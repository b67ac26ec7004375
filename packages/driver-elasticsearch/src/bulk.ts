import type { estypes } from '@elastic/elasticsearch';
import {
  decideRetry,
  type AttemptContext,
  type Classification,
  type ExecuteOptions,
  type RetryPolicy,
  type Target,
} from '@reconnect/core';
import { classifyElasticsearchError, classifyResponse } from './classify.js';
import type { ElasticsearchClient } from './client.js';
import { clientIdsOf, newDocumentId } from './client-ids.js';
import { BulkItemsRetryableError } from './errors.js';
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
  /** How many bulk requests were sent (rounds: the attempts of the call's `execute` that reached the client). */
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

/**
 * Splits `operations` into items (an action line, then a document except for delete). With `clientIds`, an `index`
 * without `_id` is given one (made here, once per call) and sent as `create`; its result keeps the caller's action.
 */
export function parseBulkOperations(
  operations: readonly unknown[],
  defaultIndex?: string,
  { clientIds = false }: { clientIds?: boolean } = {},
): Item[] {
  const items: Item[] = [];
  for (let i = 0; i < operations.length; i++) {
    const line = operations[i];
    const keys = typeof line === 'object' && line !== null ? Object.keys(line) : [];
    const action = keys[0];
    if (keys.length !== 1 || action === undefined || !actions.has(action))
      throw new TypeError(
        `bulk: operations[${i}] is not an action line ({ index | create | delete | update: {…} })`,
      );
    const given = ((line as Record<string, unknown>)[action] ?? {}) as Record<string, unknown>;
    const autoId = clientIds && action === 'index' && (given._id === undefined || given._id === null);
    const meta = autoId ? { ...given, _id: newDocumentId() } : given;
    const hasDoc = action !== 'delete';
    const doc = hasDoc ? operations[++i] : undefined;
    if (hasDoc && i >= operations.length)
      throw new TypeError(`bulk: the ${action} at operations[${i - 1}] has no document`);
    const a: BulkAction = autoId ? 'create' : (action as BulkAction);
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
        action: action as BulkAction,
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

/** One bulk request: the items it carried, and whether its outcome was recorded. */
interface Round {
  readonly items: readonly Item[];
  settled: boolean;
}

/** The retry policy without `retryIf`: an item is resent when `retryOn` lists its failure (see bulkWithRetries). */
function retryOnOnly(policy: RetryPolicy): RetryPolicy {
  const { retryIf: _retryIf, ...rest } = policy;
  return rest;
}

/**
 * The state of one {@link bulkWithRetries} call across the attempts of its one `execute`: each attempt is a round
 * that sends the items still pending.
 */
class BulkRun {
  readonly #items: readonly Item[];
  readonly #options: BulkOptions;
  readonly #itemPolicy: RetryPolicy;
  /** Whether every item may be replayed after a lost answer (the `execute`'s `idempotent`). */
  readonly idempotent: boolean;
  #pending: readonly Item[];
  #last: Round | undefined;
  rounds = 0;

  constructor(items: readonly Item[], options: BulkOptions, policy: RetryPolicy) {
    this.#items = items;
    this.#options = options;
    this.#itemPolicy = retryOnOnly(policy);
    this.idempotent = items.every((item) => item.replay !== 'unsafe');
    this.#pending = items;
  }

  /** One attempt of the `execute`: sends the pending items; throws to have the executor retry the ones to resend. */
  async round(client: ElasticsearchClient, ctx: AttemptContext): Promise<void> {
    // A round the executor cut short (its timeout, before its request settled) may have been applied.
    if (this.#last !== undefined && !this.#last.settled) this.#lost(this.#last, undefined);
    const round: Round = { items: this.#pending, settled: false };
    this.#last = round;
    this.rounds++;
    for (const item of round.items) item.result.attempts++;
    let answer: estypes.BulkResponse;
    try {
      answer = await client.bulk({
        operations: round.items.flatMap((item) =>
          item.hasDoc ? [{ [item.action]: item.meta }, item.doc] : [{ [item.action]: item.meta }],
        ),
        ...(this.#options.index === undefined ? {} : { index: this.#options.index }),
        ...(this.#options.refresh === undefined ? {} : { refresh: this.#options.refresh }),
      });
    } catch (error) {
      if (!round.settled) this.#lost(round, error);
      throw error;
    }
    // An answer to a round already given up on is not this call's any more (its items were settled as lost).
    if (round.settled) return;
    round.settled = true;
    const retry = this.#answered(round.items, answer, ctx);
    if (retry === undefined) return;
    this.#pending = retry.items;
    throw new BulkItemsRetryableError(retry.items.length, retry.classification, retry.firstError);
  }

  /** The request of `round` failed (`error`) or was cut short (undefined): its items may or may not have landed. */
  #lost(round: Round, error: unknown): void {
    round.settled = true;
    const notSent = error !== undefined && classifyElasticsearchError(error).sent === false;
    for (const item of round.items) {
      if (!notSent) item.landedMaybe = true;
      item.result.outcome = item.landedMaybe ? 'unknown' : 'not_sent';
      item.result.error = error;
      item.result.status = undefined;
      item.result.result = undefined;
    }
  }

  /** Records the answer of each item; returns the items to resend (and how to classify the round), if any. */
  #answered(
    sent: readonly Item[],
    answer: estypes.BulkResponse,
    ctx: AttemptContext,
  ): { items: Item[]; classification: Classification; firstError: unknown } | undefined {
    const retry: Item[] = [];
    let first: Classification | undefined;
    let firstError: unknown;
    let allNotSent = true;
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
      item.result.outcome = 'failed';
      const c = classifyResponse(status, { error: r?.error }, undefined);
      // The idempotency rule per item: in a bulk that holds an item unsafe to replay, only refusals that prove the
      // item was not applied are resent (the round's own retry must then say `sent: false` to the executor).
      const verdict = decideRetry(this.#itemPolicy, r?.error, c, {
        attempt: ctx.attempt,
        classification: c,
        idempotent: this.idempotent,
        node: ctx.node,
        elapsedMs: 0, // read by retryIf only, which is left out here
      });
      if (verdict !== 'retryable') return;
      retry.push(item);
      if (first === undefined) {
        first = c;
        firstError = r?.error;
      }
      if (c.sent !== false) allNotSent = false;
    });
    if (first === undefined) return undefined;
    const classification: Classification = {
      kind: first.kind,
      ...(first.code === undefined ? {} : { code: first.code }),
      ...(first.statusCode === undefined ? {} : { statusCode: first.statusCode }),
      ...(allNotSent ? { sent: false } : {}),
    };
    return { items: retry, classification, firstError };
  }

  /** The call's result; `error` is what the `execute` ended with, if it failed. */
  result(error: unknown, failed: boolean): BulkResult {
    // The executor gave up while a round was in flight (a timeout, the deadline, the caller's abort).
    if (this.#last !== undefined && !this.#last.settled) this.#lost(this.#last, undefined);
    if (failed) {
      // Items with no answer from their last round (or never sent) carry why the call stopped.
      for (const item of this.#items)
        if (item.result.outcome === 'unknown' || item.result.outcome === 'not_sent')
          item.result.error = error;
    }
    const errors = this.#items.some(
      (i) => i.result.outcome !== 'applied' && i.result.outcome !== 'already_applied',
    );
    return { items: this.#items.map((i) => i.result), errors, rounds: this.rounds };
  }
}

/**
 * A bulk request that resends only the items that failed with a retryable status (429 `es_rejected_execution`,
 * 503 `unavailable_shards`, or what the policy's `retryOn` lists), alone. The whole call is one `execute` on the
 * target and each round one of its attempts, so the rounds follow the target's retry policy, clock and randomness:
 * `retry.maxRetries` more rounds at most, the backoff between them, within the deadline, the
 * budget and the caller's signal. Items that succeeded are never resent. A round whose answer is lost is retried
 * whole only when every item of the bulk is safe to replay (no index without `_id`), and a create / `if_seq_no`
 * item that then answers 409 is `already_applied`. Resolves with every item's result; it does not reject for item
 * failures.
 */
export async function bulkWithRetries(
  target: Target<ElasticsearchClient>,
  options: BulkOptions,
): Promise<BulkResult> {
  const items = parseBulkOperations(options.operations, options.index, { clientIds: clientIdsOf(target) });
  const run = new BulkRun(items, options, target.policy.retry);
  // `db.collection.name` only when every item goes to the same index (the conventions' rule for a batch).
  const index = items[0]?.result.index;
  const collection =
    index !== undefined && items.every((item) => item.result.index === index) ? index : undefined;
  const executeOptions: ExecuteOptions = {
    name: 'bulk',
    ...(collection === undefined ? {} : { collection }),
    idempotent: run.idempotent,
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.attemptTimeout === undefined ? {} : { attemptTimeout: options.attemptTimeout }),
  };
  try {
    await target.execute((client, ctx) => run.round(client, ctx), executeOptions);
    return run.result(undefined, false);
  } catch (error) {
    return run.result(error, true);
  }
}
