/**
 * Every span, span event, attribute and metric name Reconnect emits, in one place. These names are a
 * stable API (dashboards and alerts depend on them) and are documented in packages/core/README.md.
 * OpenTelemetry's database semantic conventions (the stable `db.*` set) are followed where they name
 * something; everything of Reconnect's own lives under `reconnect.`.
 */

// ─── Spans ───────────────────────────────────────────────────────────────────────────────────────

/**
 * Span names of Reconnect's own spans (all of kind INTERNAL). The operation span (kind CLIENT) is named by the
 * database conventions instead (`{db.operation.name} {target}`, see `dbSpanName`), so it has no fixed name.
 */
export const SpanNames = {
  /** One per attempt of an operation, a child of the operation's span. */
  ATTEMPT: 'reconnect.attempt',
  /** The time an attempt waited for a connection (a reconnect, a node's connect), a child of its attempt. */
  CONNECTION_WAIT: 'reconnect.connection_wait',
  /** One per active health probe. */
  HEALTH_CHECK: 'reconnect.health_check',
  /** From a lost connection to the reconnect (or the stop); one event per failed try. */
  RECONNECT: 'reconnect.reconnect',
  /** One per reload of the policy file (a watched save, `manager.reload()`, SIGHUP): its file, result and changes. */
  POLICY_RELOAD: 'reconnect.policy_reload',
} as const;

// ─── Span events ─────────────────────────────────────────────────────────────────────────────────

/** Span event names. */
export const EventNames = {
  /** On the operation span after every failed attempt: retry or give up, why, and the wait. */
  RETRY_DECISION: 'reconnect.retry_decision',
  /** The circuit breaker opened (failures crossed the threshold, or a half-open trial failed). */
  BREAKER_OPEN: 'reconnect.breaker.open',
  /** The circuit breaker let trial calls through after `openFor`. */
  BREAKER_HALF_OPEN: 'reconnect.breaker.half_open',
  /** The circuit breaker closed again after successful trial calls. */
  BREAKER_CLOSED: 'reconnect.breaker.closed',
  /** The retry budget refused a retry. */
  BUDGET_EXHAUSTED: 'reconnect.budget.exhausted',
  /** On `reconnect.reconnect`: one failed reconnect try. */
  RECONNECT_ATTEMPT: 'reconnect.reconnect_attempt',
  /** A node was marked dead. */
  NODE_DEAD: 'reconnect.node.dead',
  /** A dead node came back. */
  NODE_RESURRECTED: 'reconnect.node.resurrected',
  /** Every node is dead; the one that died longest ago is offered. */
  NODE_ALL_DEAD: 'reconnect.node.all_dead',
  /** Discovery found a node that did not answer its probe: it was kept out of the pool. */
  NODE_UNREACHABLE: 'reconnect.node.unreachable',
} as const;

// ─── Attributes ──────────────────────────────────────────────────────────────────────────────────

/** Attribute keys (span attributes, event attributes and metric attributes). */
export const AttributeNames = {
  // OpenTelemetry database semantic conventions (stable).
  /** The database product (`mysql`, `mariadb`, `redis`, `elasticsearch`): the server's word when the driver has it. */
  DB_SYSTEM_NAME: 'db.system.name',
  /** The operation's name (`execute(fn, { name })`): the command or endpoint (`GET`, `SELECT`, `search`). */
  DB_OPERATION_NAME: 'db.operation.name',
  /** The database (MySQL), database index (Redis) or cluster name (Elasticsearch), when the driver knows it. */
  DB_NAMESPACE: 'db.namespace',
  /** The table, key space or index (`execute(fn, { collection })`). */
  DB_COLLECTION_NAME: 'db.collection.name',
  /** The query text (`execute(fn, { query })`), literals replaced by `?`; only when opted in. */
  DB_QUERY_TEXT: 'db.query.text',
  /** The store's own status for a failure: a MySQL error number, a Redis error prefix, an HTTP status. */
  DB_RESPONSE_STATUS_CODE: 'db.response.status_code',
  /** The server's host as configured (single-server targets) or the node's (multi-node targets). */
  SERVER_ADDRESS: 'server.address',
  /** The server's port, with `server.address`. */
  SERVER_PORT: 'server.port',
  /** Address of the node an attempt ran on (the last one, on the operation span). */
  NETWORK_PEER_ADDRESS: 'network.peer.address',
  /** Port of the node an attempt ran on, with `network.peer.address`. */
  NETWORK_PEER_PORT: 'network.peer.port',
  /** The class of a failure: the store's status, else a client's or Reconnect's stable code, else `_OTHER`. */
  ERROR_TYPE: 'error.type',
  /** On the `db.client.connection.*` metrics: the pool (a target's name). */
  DB_CLIENT_CONNECTION_POOL_NAME: 'db.client.connection.pool.name',
  /** On `db.client.connection.count`: `idle` or `used`. */
  DB_CLIENT_CONNECTION_STATE: 'db.client.connection.state',

  // Reconnect's own.
  /** The target's name from the policy file. */
  TARGET: 'reconnect.target',
  /** Whether the operation was declared idempotent. */
  IDEMPOTENT: 'reconnect.idempotent',
  /** On the operation span and `reconnect.reconnect`: how many attempts were made. */
  ATTEMPTS: 'reconnect.attempts',
  /** On `reconnect.reconnect`: on-demand attempts (brought forward by waiting operations) that failed since the last try. */
  ON_DEMAND_ATTEMPTS: 'reconnect.on_demand_attempts',
  /** On `reconnect.attempt`, retry decisions and reconnect tries: the attempt number (1 for the first). */
  ATTEMPT: 'reconnect.attempt',
  /** How an attempt ended (one of {@link AttemptOutcomes}). */
  ATTEMPT_OUTCOME: 'reconnect.attempt.outcome',
  /** On `reconnect.attempt`: true for a hedge (an extra attempt of a slow read sent to another node). */
  ATTEMPT_HEDGE: 'reconnect.attempt.hedge',
  /** On a hedged read's operation span: the attempt number that answered first (1: the original). */
  HEDGE_WINNER: 'reconnect.hedge.winner',
  /** On `reconnect.hedges`: `won` (a hedge answered first), `lost` (the original did) or `failed` (none did). */
  HEDGE_RESULT: 'reconnect.hedge.result',
  /** The driver's error kind (`connection`, `timeout`, …) of a failure. */
  ERROR_KIND: 'reconnect.error.kind',
  /** On a failed operation span: the stable code of the error `execute()` rejected with (`ERR_OUTCOME_UNKNOWN`). */
  ERROR_CODE: 'reconnect.error.code',
  /**
   * Whether a failed request may have run: `not_sent` (proved not to have reached the server) or `unknown`; on
   * `reconnect.reconnect`: how it ended (`reconnected`, `stopped`, `gave_up`).
   */
  OUTCOME: 'reconnect.outcome',
  /** On `reconnect.retry_decision`: `retry` or `give_up`. */
  RETRY_DECISION: 'reconnect.retry.decision',
  /** On `reconnect.retry_decision` and the retry metrics: why (one of {@link RetryReasons}). */
  RETRY_REASON: 'reconnect.retry.reason',
  /** On `reconnect.retry_decision` and reconnect tries: the wait before the next attempt, in ms. */
  DELAY_MS: 'reconnect.delay_ms',
  /** On breaker events: the state the breaker left. */
  BREAKER_FROM: 'reconnect.breaker.from',
  /** On breaker events and the breaker-state metric: the breaker's (new) state. */
  BREAKER_STATE: 'reconnect.breaker.state',
  /** On `reconnect.health_check`: whether the probe succeeded. */
  HEALTH_OK: 'reconnect.health.ok',
  /** A node's stable id. */
  NODE_ID: 'reconnect.node.id',
  /** How many times in a row a node was marked dead. */
  NODE_DEAD_COUNT: 'reconnect.node.dead_count',
  /** On `reconnect.node.all_dead`: how many nodes the target has. */
  NODES: 'reconnect.nodes',
  /** On `reconnect.concurrency.operations`: `in_flight` (holding a permit) or `waiting` (queued for one). */
  CONCURRENCY_STATE: 'reconnect.concurrency.state',
  /** On the nodes metric: `alive` or `dead`. */
  NODE_STATE: 'reconnect.node.state',
  /** On the target-state metric: the target's state. */
  TARGET_STATE: 'reconnect.target.state',
  /** On `reconnect.policy_reload`: the policy file reloaded. */
  CONFIG_FILE: 'reconnect.config.file',
  /** On `reconnect.policy_reload` and the reload metric: `applied`, `not_applied`, `unchanged` or `failed`. */
  RELOAD_RESULT: 'reconnect.reload.result',
  /** On `reconnect.policy_reload`: the changed paths (`cache.healthCheck.interval`, `cache.options.url`). */
  RELOAD_CHANGED_PATHS: 'reconnect.reload.changed_paths',
  /** On `reconnect.policy_reload`: each change in words, as `reconnect diff` prints it (secrets redacted). */
  RELOAD_CHANGES: 'reconnect.reload.changes',
} as const;

/**
 * The experimental (pre-stable) names of the database conventions that `OTEL_SEMCONV_STABILITY_OPT_IN=database/dup`
 * adds beside the stable ones, as the conventions' migration plan asks.
 */
export const DeprecatedAttributeNames = {
  /** Renamed to `db.system.name`. */
  DB_SYSTEM: 'db.system',
  /** Renamed to `db.namespace`. */
  DB_NAME: 'db.name',
  /** Renamed to `db.operation.name`. */
  DB_OPERATION: 'db.operation',
  /** Renamed to `db.query.text`. */
  DB_STATEMENT: 'db.statement',
  /** Renamed to `db.client.connection.pool.name`. */
  POOL_NAME: 'pool.name',
  /** Renamed to `db.client.connection.state`. */
  STATE: 'state',
} as const;

/** Values of `reconnect.attempt.outcome`: how one attempt ended. */
export const AttemptOutcomes = {
  /** The operation succeeded. */
  SUCCESS: 'success',
  /** The operation failed (the store's or the client's error; see `error.type`). */
  ERROR: 'error',
  /** The policy's (or the call's) `attemptTimeout` cut the operation short. */
  ATTEMPT_TIMEOUT: 'attempt_timeout',
  /** The operation's deadline cut the operation short while it ran. */
  DEADLINE: 'deadline',
  /** No connection was had: the wait for one ran into the deadline, or the target refused (fail-fast, queue full). */
  NOT_CONNECTED: 'not_connected',
  /** The caller's AbortSignal aborted it. */
  ABORTED: 'aborted',
  /** Another attempt of the same hedged read answered first: this one was cancelled. */
  HEDGE_LOST: 'hedge_lost',
} as const;
/** A value of `reconnect.attempt.outcome`. */
export type AttemptOutcome = (typeof AttemptOutcomes)[keyof typeof AttemptOutcomes];

/** Values of the `reconnect.retry.decision` attribute. */
export const RetryDecisions = { RETRY: 'retry', GIVE_UP: 'give_up' } as const;
/** A value of the `reconnect.retry.decision` attribute. */
export type RetryDecision = (typeof RetryDecisions)[keyof typeof RetryDecisions];

/** Values of the `reconnect.retry.reason` attribute (and `GiveUpEvent.reason`). */
export const RetryReasons = {
  /** decision `retry`: the error is retryable and nothing forbids another attempt. */
  RETRYABLE: 'retryable',
  /** decision `retry`: the client itself failed the request before sending it (`local`); not charged. */
  LOCAL: 'local',
  /** The policy's `retryOn` / `retryIf` does not retry this error. */
  NOT_RETRYABLE: 'not_retryable',
  /** `maxRetries` retries were made. */
  MAX_RETRIES: 'max_retries',
  /** The deadline passed, or the next attempt could not start before it. */
  DEADLINE: 'deadline',
  /** The target's retry budget is spent. */
  BUDGET_EXHAUSTED: 'budget_exhausted',
  /** The target's circuit breaker is open. */
  BREAKER_OPEN: 'breaker_open',
  /** The operation is not idempotent and the failed request may have reached the server. */
  NOT_IDEMPOTENT: 'not_idempotent',
  /** The caller's AbortSignal aborted the operation. */
  ABORTED: 'aborted',
} as const;
/** A value of the `reconnect.retry.reason` attribute. */
export type RetryReason = (typeof RetryReasons)[keyof typeof RetryReasons];

// ─── Metrics ─────────────────────────────────────────────────────────────────────────────────────

/** Metric instrument names. Durations are in seconds, per OpenTelemetry's conventions. */
export const MetricNames = {
  // OpenTelemetry database semantic conventions.
  /** Histogram, s: whole operations as the caller saw them, retries and waits included. */
  DB_CLIENT_OPERATION_DURATION: 'db.client.operation.duration',
  /** UpDownCounter: a target's pooled connections by state (`idle`, `used`), for drivers that report their pool. */
  DB_CLIENT_CONNECTION_COUNT: 'db.client.connection.count',
  /** UpDownCounter: the most connections the pool may open. */
  DB_CLIENT_CONNECTION_MAX: 'db.client.connection.max',
  /** UpDownCounter: the most idle connections the pool keeps (when the driver says). */
  DB_CLIENT_CONNECTION_IDLE_MAX: 'db.client.connection.idle.max',
  /** UpDownCounter: requests waiting for a pooled connection. */
  DB_CLIENT_CONNECTION_PENDING_REQUESTS: 'db.client.connection.pending_requests',
  /** Counter: waits for a pooled connection that timed out (when the driver counts them). */
  DB_CLIENT_CONNECTION_TIMEOUTS: 'db.client.connection.timeouts',

  // Reconnect's own.
  /** Counter: attempts made (attributes: outcome, error.type on failure). */
  ATTEMPTS: 'reconnect.attempts',
  /** Counter: hedged reads, by result (attribute reconnect.hedge.result). */
  HEDGES: 'reconnect.hedges',
  /** Counter: retries made (attributes: reason `retryable` | `local`, outcome `not_sent` | `unknown`). */
  RETRIES: 'reconnect.retries',
  /** Histogram: retries per operation, recorded as each operation ends. */
  OPERATION_RETRIES: 'reconnect.operation.retries',
  /** Histogram, s: the wait before each retry. */
  RETRY_DELAY: 'reconnect.retry.delay',
  /** Counter: operations that gave up, by reason. */
  GIVE_UPS: 'reconnect.give_ups',
  /** Counter: non-idempotent operations (writes) that failed after they may have run: outcome unknown. */
  WRITES_OUTCOME_UNKNOWN: 'reconnect.writes.outcome_unknown',
  /** Gauge: 1 for the breaker's current state, 0 for the others (attribute reconnect.breaker.state). */
  BREAKER_STATE: 'reconnect.breaker.state',
  /** Gauge: retries the target's retry budget would allow now (targets with a budget). */
  BUDGET_AVAILABLE: 'reconnect.budget.available',
  /** Gauge: the target's concurrency limit now (targets with `concurrency.limit` on). */
  CONCURRENCY_LIMIT: 'reconnect.concurrency.limit',
  /** Gauge: operations holding a permit of the concurrency limit, and waiting in its queue (attribute reconnect.concurrency.state). */
  CONCURRENCY_OPERATIONS: 'reconnect.concurrency.operations',
  /** Counter: operations the concurrency limit refused (at once, or after their wait in its queue). */
  CONCURRENCY_REFUSED: 'reconnect.concurrency.refused',
  /** Gauge: a multi-node target's nodes by state (`alive`, `dead`). */
  NODES: 'reconnect.nodes',
  /** Counter: successful reconnects. */
  RECONNECTS: 'reconnect.reconnects',
  /** Histogram, s: active health-probe duration (attribute reconnect.health.ok). */
  HEALTH_CHECK_DURATION: 'reconnect.health_check.duration',
  /** Gauge: 1 for the target's current state, 0 for the others (attribute reconnect.target.state). */
  TARGET_STATE: 'reconnect.target.state',
  /** Counter: policy-file reloads (attribute reconnect.reload.result). */
  POLICY_RELOADS: 'reconnect.policy_reloads',
} as const;

/**
 * The experimental connection-pool metric names that `OTEL_SEMCONV_STABILITY_OPT_IN=database/dup` emits beside
 * the stable ones (with the experimental attribute keys `pool.name` and `state`).
 */
export const DeprecatedMetricNames = {
  DB_CLIENT_CONNECTIONS_USAGE: 'db.client.connections.usage',
  DB_CLIENT_CONNECTIONS_MAX: 'db.client.connections.max',
  DB_CLIENT_CONNECTIONS_IDLE_MAX: 'db.client.connections.idle.max',
  DB_CLIENT_CONNECTIONS_PENDING_REQUESTS: 'db.client.connections.pending_requests',
  DB_CLIENT_CONNECTIONS_TIMEOUTS: 'db.client.connections.timeouts',
} as const;
