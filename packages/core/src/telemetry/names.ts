/**
 * Every span, span event, attribute and metric name Reconnect emits, in one place. These names are a
 * stable API (dashboards and alerts depend on them) and are documented in packages/core/README.md.
 * OpenTelemetry semantic-convention names are used where one exists (`db.system`, `server.address`,
 * `server.port`, `error.type`); everything else lives under `reconnect.`.
 */

// ─── Spans ───────────────────────────────────────────────────────────────────────────────────────

/** Span names. */
export const SpanNames = {
  /** One per `execute()` call, from the call to the final result or error. */
  EXECUTE: 'reconnect.execute',
  /** One per attempt of an operation, a child of `reconnect.execute`. */
  ATTEMPT: 'reconnect.attempt',
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
  /** On `reconnect.execute` after every failed attempt: retry or give up, why, and the wait. */
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
  // OpenTelemetry semantic conventions.
  /** The storage system, the driver's `system` (`mysql`, `redis`, `elasticsearch`). */
  DB_SYSTEM: 'db.system',
  /** Host of the node an attempt ran on. */
  SERVER_ADDRESS: 'server.address',
  /** Port of the node an attempt ran on. */
  SERVER_PORT: 'server.port',
  /** The class of error: the error's string `code` when it has one, else its name. */
  ERROR_TYPE: 'error.type',

  // Reconnect's own.
  /** The target's name from the policy file. */
  TARGET: 'reconnect.target',
  /** The operation's name (`execute(fn, { name })`). */
  OPERATION: 'reconnect.operation',
  /** Whether the operation was declared idempotent. */
  IDEMPOTENT: 'reconnect.idempotent',
  /** On `reconnect.execute`: how many attempts the operation took. */
  ATTEMPTS: 'reconnect.attempts',
  /** On reconnect tries: on-demand attempts (brought forward by waiting operations) that failed since the last one. */
  ON_DEMAND_ATTEMPTS: 'reconnect.on_demand_attempts',
  /** On `reconnect.attempt` and reconnect tries: the attempt number (1 for the first). */
  ATTEMPT: 'reconnect.attempt',
  /** On `reconnect.attempt`: the driver's error kind (`connection`, `timeout`, …) of a failed attempt. */
  ERROR_KIND: 'reconnect.error.kind',
  /**
   * On a failed `reconnect.execute`: whether the operation may have run (`not_sent`, `unknown`);
   * on `reconnect.reconnect`: how it ended (`reconnected`, `stopped`).
   */
  OUTCOME: 'reconnect.outcome',
  /** On `reconnect.retry_decision`: `retry` or `give_up`. */
  DECISION: 'decision',
  /** On `reconnect.retry_decision`: why (one of {@link RetryReasons}). */
  REASON: 'reason',
  /** On `reconnect.retry_decision` and reconnect tries: the wait before the next attempt, in ms. */
  DELAY_MS: 'delay_ms',
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
  /** On the target-state metric: the target's state. */
  TARGET_STATE: 'reconnect.target.state',
  /** On `reconnect.policy_reload`: the policy file reloaded. */
  CONFIG_FILE: 'reconnect.config.file',
  /** On `reconnect.policy_reload` and the reload metric: `applied`, `unchanged` or `failed`. */
  RELOAD_RESULT: 'reconnect.reload.result',
  /** On `reconnect.policy_reload`: the changed paths (`cache.healthCheck.interval`, `cache.options.url`). */
  RELOAD_CHANGED_PATHS: 'reconnect.reload.changed_paths',
  /** On `reconnect.policy_reload`: each change in words, as `reconnect diff` prints it (secrets redacted). */
  RELOAD_CHANGES: 'reconnect.reload.changes',
} as const;

/** Values of the `decision` attribute. */
export const RetryDecisions = { RETRY: 'retry', GIVE_UP: 'give_up' } as const;
/** A value of the `decision` attribute. */
export type RetryDecision = (typeof RetryDecisions)[keyof typeof RetryDecisions];

/** Values of the `reason` attribute of `reconnect.retry_decision` (and `GiveUpEvent.reason`). */
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
/** A value of the `reason` attribute. */
export type RetryReason = (typeof RetryReasons)[keyof typeof RetryReasons];

// ─── Metrics ─────────────────────────────────────────────────────────────────────────────────────

/** Metric instrument names. Durations are in seconds, per OpenTelemetry's conventions. */
export const MetricNames = {
  /** Counter: attempts made (attributes: target, db.system, error.type on failure). */
  ATTEMPTS: 'reconnect.attempts',
  /** Counter: retry decisions (attributes: target, db.system, decision, reason). */
  RETRIES: 'reconnect.retries',
  /** Histogram, seconds: whole-operation duration, retries and waits included (error.type on failure). */
  OPERATION_DURATION: 'reconnect.operation.duration',
  /** Gauge: 1 for the breaker's current state, 0 for the others (attribute reconnect.breaker.state). */
  BREAKER_STATE: 'reconnect.breaker.state',
  /** Counter: successful reconnects. */
  RECONNECTS: 'reconnect.reconnects',
  /** Histogram, seconds: active health-probe duration (attribute reconnect.health.ok). */
  HEALTH_CHECK_DURATION: 'reconnect.health_check.duration',
  /** Gauge: 1 for the target's current state, 0 for the others (attribute reconnect.target.state). */
  TARGET_STATE: 'reconnect.target.state',
  /** Counter: policy-file reloads (attribute reconnect.reload.result). */
  POLICY_RELOADS: 'reconnect.policy_reloads',
} as const;
