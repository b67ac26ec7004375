import type { Classification } from '@reconnect/core';

/** This driver's own error codes. */
export const driverErrorCodes = [
  'BULK_ITEMS_RETRYABLE',
  'CLUSTER_RED',
  'RESPONSE_TOO_LARGE',
  'CLIENT_CLOSED',
] as const;

/** The code of an error raised by this driver. */
export type ElasticsearchDriverErrorCode = (typeof driverErrorCodes)[number];

const codes: ReadonlySet<string> = new Set(driverErrorCodes);

/**
 * An error raised by the driver itself (not by the client or the server). Built complete: its `code` and what
 * `classify` says of it (`classification`) are set at construction and never changed; with the code it is how
 * {@link isElasticsearchDriverError} (and `classify`) recognise it, never the message.
 */
export class ElasticsearchDriverError extends Error {
  override readonly name: string = 'ElasticsearchDriverError';
  readonly code: ElasticsearchDriverErrorCode;
  /** The driver's classification of this error. */
  readonly classification: Readonly<Classification>;

  constructor(
    code: ElasticsearchDriverErrorCode,
    message: string,
    classification: Classification,
    options?: { cause?: unknown },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.classification = Object.freeze({ ...classification });
  }
}

/** True for an {@link ElasticsearchDriverError}, from any copy of this package (by code, not `instanceof`). */
export function isElasticsearchDriverError(error: unknown): error is ElasticsearchDriverError {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; classification?: unknown };
  return (
    typeof e.code === 'string' &&
    codes.has(e.code) &&
    typeof e.classification === 'object' &&
    e.classification !== null
  );
}

/**
 * What one bulk round throws when its answer failed some items with a status the policy retries: the target's
 * executor then retries the round (its backoff, clock, deadline, budget) and the next attempt resends only
 * `retrying`. Classified as the first of them (kind, `error.type`, status); `sent: false` when every one of them
 * was refused unapplied (429, Elasticsearch's own 503s).
 */
export class BulkItemsRetryableError extends ElasticsearchDriverError {
  override readonly name = 'BulkItemsRetryableError';
  /** How many items the next round resends. */
  readonly retrying: number;

  constructor(retrying: number, classification: Classification, firstItemError: unknown) {
    super(
      'BULK_ITEMS_RETRYABLE',
      `${retrying} bulk item${retrying === 1 ? '' : 's'} failed with a retryable status (${String(classification.code ?? classification.statusCode)}); resending ${retrying === 1 ? 'it' : 'them'}`,
      classification,
      { cause: firstItemError },
    );
    this.retrying = retrying;
  }
}

/** The error a probe fails with when the cluster is red and the options say red counts as down. */
export class ClusterRedError extends ElasticsearchDriverError {
  override readonly name = 'ClusterRedError';

  constructor(node: string) {
    // The node answered; its cluster cannot serve: transient, and the probe's request did nothing.
    super('CLUSTER_RED', `Cluster health is red (as seen by ${node}); redIsDown is set`, {
      kind: 'transient',
      code: 'CLUSTER_RED',
      sent: false,
    });
  }
}
