import type { BudgetPolicy } from '../../policy/resolved.js';
import { systemClock, type Clock } from '../../time/clock.js';

/** The window is kept as this many slices, so old requests and retries age out in steps of window/10. */
const SLICES = 10;

/** Retries a new budget's floor allows before any success: a few blips right after start, never a storm. */
const STARTING_CREDIT = 10;

/**
 * A target's retry budget (Finagle's RetryBudget, with a floor that does not amplify): over a sliding `window`,
 * retries may be at most `ratio` of operations plus a floor so that a quiet target can still retry a blip. The
 * floor is `minPerSecond · window` at most, and never more than the operations that *succeeded* in the window
 * (the refill follows successes, as in gRPC's retry throttling and the AWS SDKs' retry quota): a target whose
 * every operation fails earns none, so in a total outage retries stop at `ratio` extra load whatever the rate —
 * Finagle's fixed floor let a quiet instance send `maxRetries + 1` times its traffic, and a fleet of them a
 * multiple of the floor whatever their load.
 * Every operation {@link deposit}s; every success {@link succeeded}; every retry must {@link tryWithdraw}. A new
 * budget starts with a little of its floor earned (10 retries at most), for one window.
 *
 * Every retry withdraws, whatever its error: the budget bounds load, not health (the breaker judges health).
 */
export class RetryBudget {
  readonly #policy: BudgetPolicy;
  readonly #clock: Clock;
  readonly #sliceMs: number;
  readonly #deposits = new Float64Array(SLICES);
  readonly #withdrawals = new Float64Array(SLICES);
  readonly #successes = new Float64Array(SLICES);
  /** The absolute slice number each ring cell currently holds. */
  // Stryker disable next-line UnaryOperator: a cell never used holds only zeros, so whether the loop in #cell clears it (-Infinity) or not (+Infinity) changes nothing
  readonly #slices = new Float64Array(SLICES).fill(-Infinity);

  constructor(policy: BudgetPolicy, clock: Clock = systemClock) {
    this.#policy = policy;
    this.#clock = clock;
    this.#sliceMs = Math.max(1, policy.window / SLICES);
    // A new budget starts with a little of its floor earned (gRPC's retry throttle starts full): a blip right
    // after start can be retried. The credit is small (a fleet started into an outage must not storm) and ages
    // out with the window; available() caps it at the floor (minPerSecond · window) like any success.
    this.#successes[this.#cell()] = STARTING_CREDIT;
  }

  /** The clock the window runs on. */
  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Records one operation (first attempts only, never retries). `now` is a reading of {@link clock}
   * the caller has just taken (the executor's start of the operation), to save a second read.
   */
  deposit(now: number = this.#clock.now()): void {
    this.#deposits[this.#cell(now)]! += 1;
  }

  /** Records one operation that succeeded (at `now`, a reading of {@link clock}): it earns the floor. */
  succeeded(now: number = this.#clock.now()): void {
    this.#successes[this.#cell(now)]! += 1;
  }

  /** Takes one retry from the budget; `false` (and nothing taken) when it is spent. */
  tryWithdraw(): boolean {
    const cell = this.#cell();
    if (this.available() < 1) return false;
    this.#withdrawals[cell]! += 1;
    return true;
  }

  /** How many retries the budget allows right now (may be fractional). */
  available(): number {
    this.#cell();
    let deposits = 0;
    let withdrawals = 0;
    let successes = 0;
    for (let i = 0; i < SLICES; i++) {
      deposits += this.#deposits[i]!;
      withdrawals += this.#withdrawals[i]!;
      successes += this.#successes[i]!;
    }
    const floor = Math.min(this.#policy.minPerSecond * (this.#policy.window / 1000), successes);
    return Math.max(0, deposits * this.#policy.ratio + floor - withdrawals);
  }

  // The ring cell for now, cleared if it last held an older slice; also clears any cells skipped over.
  #cell(now: number = this.#clock.now()): number {
    const slice = Math.floor(now / this.#sliceMs);
    const cell = ((slice % SLICES) + SLICES) % SLICES;
    if (this.#slices[cell] !== slice) {
      // Stryker disable next-line EqualityOperator: one turn more reads #slices[SLICES], undefined, and `undefined <= n` is false
      for (let i = 0; i < SLICES; i++) {
        if (this.#slices[i]! <= slice - SLICES) {
          this.#deposits[i] = 0;
          this.#withdrawals[i] = 0;
          this.#successes[i] = 0;
        }
      }
      this.#slices[cell] = slice;
      this.#deposits[cell] = 0;
      this.#withdrawals[cell] = 0;
      this.#successes[cell] = 0;
    }
    return cell;
  }
}
