import { maxTimerMs, type Clock, type TimerHandle } from '../time/clock.js';

/** How late (ms) a timer may fire before the list yields once to I/O instead of expiring at once. */
export const LATE_MS = 20;

/** Something with a time limit in a {@link TimeoutList}: it is told once when its time is up. */
export interface Timed {
  /** When it expires, on the list's clock. */
  at: number;
  prev: Timed | undefined;
  next: Timed | undefined;
  /** Its time is up (called once, after it left the list). */
  expire(): void;
}

/**
 * The time limits of one executor's running attempts, kept in order of expiry under a single timer: an
 * attempt costs a link in a list instead of a timer of its own (a Node Timeout, its async resource and a
 * closure), which is most of what a timed attempt allocated. Attempts mostly share one limit (the policy's
 * attemptTimeout), so a new one goes at the tail and the order costs nothing; a shorter one (the deadline left)
 * walks back from the tail. The timer is armed for the head only; an attempt that settles leaves the list at
 * once, and the timer is cleared when the list empties, so nothing is left pending once no attempt runs.
 */
export class TimeoutList {
  readonly #clock: Clock;
  #head: Timed | undefined = undefined;
  #tail: Timed | undefined = undefined;
  #timer: TimerHandle | undefined = undefined;
  #armedAt = Number.POSITIVE_INFINITY;
  /** The timer fired late and yielded once to I/O (see #fire); the next firing expires what is due. */
  #yielded = false;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Adds `node`, whose `at` is set and which expires `delayMs` from now (the caller has just read the clock). */
  add(node: Timed, delayMs: number): void {
    let after = this.#tail;
    while (after !== undefined && after.at > node.at) after = after.prev;
    node.prev = after;
    if (after === undefined) {
      node.next = this.#head;
      this.#head = node;
    } else {
      node.next = after.next;
      after.next = node;
    }
    if (node.next === undefined) this.#tail = node;
    else node.next.prev = node;
    if (node.at < this.#armedAt) this.#arm(node.at, delayMs);
  }

  /** Takes `node` out (it settled before its time); a node not in the list is left alone. */
  remove(node: Timed): void {
    const { prev, next } = node;
    if (prev === undefined && next === undefined && this.#head !== node) return;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    node.prev = undefined;
    node.next = undefined;
    if (this.#head === undefined) this.#disarm();
  }

  #arm(at: number, delayMs: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#armedAt = at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.min(Math.max(0, delayMs), maxTimerMs));
  }

  #disarm(): void {
    this.#yielded = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // Fired late: the event loop was blocked (a synchronous job, a long GC, a starved CPU). Node runs due timers
    // before it reads the sockets, so a reply that arrived during the stall would lose to its own timeout: yield
    // once (a 0 ms timer runs after this turn's I/O) and expire what is still due then.
    if (!this.#yielded && now - this.#armedAt > LATE_MS) {
      this.#yielded = true;
      this.#arm(this.#armedAt, 0);
      return;
    }
    this.#yielded = false;
    this.#armedAt = Number.POSITIVE_INFINITY;
    // Bounded: each round takes one node out of the list.
    for (let node = this.#head; node !== undefined && node.at <= now; node = this.#head) {
      this.remove(node);
      node.expire();
    }
    const head = this.#head;
    if (head !== undefined && head.at < this.#armedAt) this.#arm(head.at, head.at - now);
  }
}
