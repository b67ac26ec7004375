/**
 * Default ceiling on the new sockets one node's client opens per second while that node is recovering (issue #26):
 * a fleet whose node restarts comes back spread, not as a wall. Only while recovering: a healthy client's burst is
 * not held back (see {@link RecoveryWindow}).
 */
export const defaultRecoveryConnectRate = 5;

/** Default time a recovering node's client must stay free of connection failures before pacing stops, in ms. */
export const defaultRecoverySettleMs = 5000;

/**
 * Socket failures that say the connection to the node was lost (not that a request was cut by its caller or
 * timed out): a reset, a broken pipe, an unreachable host, undici's "other side closed".
 */
const lossCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

/** Whether a socket that closed with `error` lost its node (see {@link lossCodes}). */
export function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && lossCodes.has(code);
}

/** What a {@link RecoveryWindow} needs: how long a recovery lasts once connects succeed, and the clock. */
export interface RecoveryWindowOptions {
  /** How long after the first connect that succeeds (with no failure since) the node counts as recovered, in ms. */
  readonly settleMs: number;
  readonly now?: () => number;
}

/**
 * Whether one node is recovering, as its clients' sockets saw it. A node is recovering from the moment a connect
 * to it fails or a client loses its last socket to a connection failure ({@link lost}), until a connect has
 * succeeded and `settleMs` passed with no failure since. Shared by the successive clients of one node of one target
 * (the core closes a lost node's client and makes a new one), so a new client starts recovering when its node was.
 */
export class RecoveryWindow {
  readonly #settleMs: number;
  readonly #now: () => number;
  #recovering = false;
  /** When the first connect since the last failure succeeded; undefined while none has. */
  #healthySince: number | undefined;

  constructor(options: RecoveryWindowOptions) {
    this.#settleMs = options.settleMs;
    this.#now = options.now ?? (() => performance.now());
  }

  /** A connect failed, or a client lost its last socket: recovering, and the settle period starts over. */
  lost(): void {
    this.#recovering = true;
    this.#healthySince = undefined;
  }

  /** A connect succeeded: the settle period runs from the first one since the last failure. */
  connected(): void {
    if (this.#recovering) this.#healthySince ??= this.#now();
  }

  /** Whether new sockets are paced now: recovering and not yet settled. */
  active(): boolean {
    if (!this.#recovering) return false;
    const since = this.#healthySince;
    if (since === undefined || this.#now() - since < this.#settleMs) return true;
    this.#recovering = false;
    this.#healthySince = undefined;
    return false;
  }
}

const windows = new WeakMap<object, Map<string, RecoveryWindow>>();

/**
 * The recovery window of node `node` of the target whose driver options are `options` (one object per target) and
 * whose name is `target`: made on first use, then the same for every client of that node.
 */
export function recoveryWindowFor(
  options: object,
  target: string,
  node: string,
  settleMs: number,
): RecoveryWindow {
  let byNode = windows.get(options);
  if (byNode === undefined) {
    byNode = new Map();
    windows.set(options, byNode);
  }
  const key = `${target}\n${node}`;
  let found = byNode.get(key);
  if (found === undefined) {
    found = new RecoveryWindow({ settleMs });
    byNode.set(key, found);
  }
  return found;
}
