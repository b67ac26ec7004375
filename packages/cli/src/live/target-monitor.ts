import type { Target, TargetState } from '@reconnect/core';

/** Something worth a line of its own while targets run: a state change, a node's death or return, a breaker flip. */
export interface MonitorEvent {
  /** Wall-clock ms. */
  at: number;
  target: string;
  kind: 'state' | 'node-dead' | 'node-back' | 'all-nodes-dead' | 'breaker' | 'reconnect-failed';
  /** One readable line, no secrets (error codes and kinds only). */
  text: string;
}

/** What a {@link TargetMonitor} has seen of one target so far. */
export interface TargetStats {
  name: string;
  state: TargetState;
  breaker: 'closed' | 'open' | 'half-open';
  /** Retries the engine made (one per `retry` event). */
  retries: number;
  /** Operations that gave up, and how many of those the retry budget refused. */
  giveUps: number;
  budgetDenied: number;
  /** Active probes, failed probes, and the last probe's duration (ms). */
  probes: number;
  probeFailures: number;
  lastProbeMs: number | undefined;
  nodesAlive: number;
  nodesTotal: number;
  /** The last error's code (or name), never its message. */
  lastErrorCode: string | undefined;
}

/** A short, secret-free label for an error: its code, else its name. */
export function errorLabel(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (typeof error !== 'object') return typeof error === 'string' ? error.slice(0, 40) : typeof error;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown };
  if (typeof e.code === 'string' || typeof e.code === 'number') return String(e.code);
  const inner = e.cause === undefined ? undefined : errorLabel(e.cause);
  if (inner !== undefined) return inner;
  return typeof e.name === 'string' ? e.name : 'Error';
}

/**
 * Follows one target's typed events and keeps the counters a live view shows; calls `onEvent` for each
 * state change, node death / resurrection and breaker flip as it happens. `dispose()` unsubscribes.
 */
export class TargetMonitor {
  readonly #stats: TargetStats;
  readonly #off: (() => void)[] = [];

  constructor(
    readonly target: Target,
    onEvent: (event: MonitorEvent) => void = () => {},
  ) {
    const h = target.health();
    this.#stats = {
      name: target.name,
      state: target.state,
      breaker: 'closed',
      retries: 0,
      giveUps: 0,
      budgetDenied: 0,
      probes: 0,
      probeFailures: 0,
      lastProbeMs: undefined,
      nodesAlive: h.nodes.filter((n) => n.alive).length,
      nodesTotal: h.nodes.length,
      lastErrorCode: undefined,
    };
    const s = this.#stats;
    const name = target.name;
    const emit = (kind: MonitorEvent['kind'], text: string, at = Date.now()): void =>
      onEvent({ at, target: name, kind, text });
    this.#off.push(
      target.on('stateChange', (e) => {
        s.state = e.to;
        const why = errorLabel(e.error);
        if (why !== undefined) s.lastErrorCode = why;
        emit('state', `${name}: ${e.from} → ${e.to}${why === undefined ? '' : ` (${why})`}`, e.at);
      }),
      target.on('reconnectFailed', (e) => {
        s.lastErrorCode = errorLabel(e.error) ?? s.lastErrorCode;
        const next =
          e.nextDelayMs === undefined ? 'no further attempt' : `next in ${Math.round(e.nextDelayMs)} ms`;
        emit(
          'reconnect-failed',
          `${name}: reconnect attempt ${e.attempt} failed (${s.lastErrorCode}); ${next}`,
        );
      }),
      target.on('retry', () => {
        s.retries++;
      }),
      target.on('giveUp', (e) => {
        s.giveUps++;
        if (e.reason === 'budget_exhausted') s.budgetDenied++;
        s.lastErrorCode = errorLabel(e.error) ?? s.lastErrorCode;
      }),
      target.on('breakerStateChange', (e) => {
        s.breaker = e.to;
        emit('breaker', `${name}: circuit breaker ${e.from} → ${e.to}`, e.at);
      }),
      target.on('healthCheck', (e) => {
        s.probes++;
        if (!e.ok) s.probeFailures++;
        s.lastProbeMs = e.durationMs;
      }),
      target.on('nodeDead', (e) => {
        emit('node-dead', `${name}: node ${e.node.id} dead (${e.deadCount}×)`);
      }),
      target.on('nodeResurrected', (e) => {
        emit('node-back', `${name}: node ${e.node.id} back`);
      }),
      target.on('allNodesDead', (e) => {
        emit('all-nodes-dead', `${name}: all ${e.nodes} nodes dead; trying ${e.offered.id} anyway`);
      }),
    );
  }

  /** The counters now, with node liveness read from the target's health. */
  snapshot(): TargetStats {
    const h = this.target.health();
    this.#stats.state = h.state;
    this.#stats.nodesAlive = h.nodes.filter((n) => n.alive).length;
    this.#stats.nodesTotal = h.nodes.length;
    return { ...this.#stats };
  }

  /** Stops listening. */
  dispose(): void {
    for (const off of this.#off.splice(0)) off();
  }
}
