import type { AcquireRequest, ConnectionSource, ExecuteOptions, Operation } from '../engine/types.js';
import type { ReconnectError } from '../errors.js';
import type { ResolvedPolicy } from '../policy/resolved.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import type { StartOptions, Target, TargetEvents, TargetHealth, TargetState } from '../lifecycle/types.js';

// Every target event, forwarded from the target in force (a key missing here is a compile error).
const forwarded = {
  stateChange: true,
  disconnect: true,
  reconnect: true,
  reconnectFailed: true,
  healthCheck: true,
  retry: true,
  giveUp: true,
  breakerStateChange: true,
  nodeDead: true,
  nodeResurrected: true,
  allNodesDead: true,
} satisfies Record<keyof TargetEvents, true>;
const eventNames = Object.keys(forwarded) as (keyof TargetEvents)[];

// One target behind the facade, with the operations it is running.
interface Generation<Client> {
  readonly target: Target<Client>;
  active: number;
  /** Called when `active` drops to 0 (set while the generation drains). */
  onIdle: (() => void) | undefined;
  readonly offs: (() => void)[];
}

/** A target a reload can hand a new policy to (the lifecycle's own targets). */
interface PolicyHolder {
  applyPolicy(policy: ResolvedPolicy): void;
}

function holdsPolicy(t: object): t is PolicyHolder {
  return typeof (t as Partial<PolicyHolder>).applyPolicy === 'function';
}

/**
 * The target a manager hands out for a name of the policy file: a stable object in front of the target in force,
 * so a reload that changes the driver options (a URL, the nodes, credentials) can replace the target behind it.
 * The new target connects first; then new operations go to it, operations already running on the old one finish
 * (each bounded by its deadline), and the old one is stopped. Events are those of the target in force.
 */
export class SwappableTarget<Client = unknown> extends TypedEmitter<TargetEvents> implements Target<Client> {
  #gen: Generation<Client>;
  #required: boolean | undefined;
  readonly #draining = new Set<{ target: Target<Client>; release: () => void; done: Promise<void> }>();

  constructor(target: Target<Client>) {
    super();
    this.#gen = this.#attach(target);
  }

  /** The target in force. */
  get current(): Target<Client> {
    return this.#gen.target;
  }

  get name(): string {
    return this.#gen.target.name;
  }

  get state(): TargetState {
    return this.#gen.target.state;
  }

  get client(): Client {
    return this.#gen.target.client;
  }

  get policy(): ResolvedPolicy {
    return this.#gen.target.policy;
  }

  get required(): boolean {
    return this.#required ?? this.#gen.target.required;
  }

  /** Operations running on the target in force (for tests and tools). */
  get inFlight(): number {
    return this.#gen.active;
  }

  /** Targets replaced by a reload whose operations are still finishing. */
  get draining(): number {
    return this.#draining.size;
  }

  /** Puts a new policy in force on the current target (see `applyPolicy` in docs/lifecycle.md "Hot reload"). */
  applyPolicy(policy: ResolvedPolicy): boolean {
    const t = this.#gen.target;
    if (!holdsPolicy(t)) return false;
    t.applyPolicy(policy);
    return true;
  }

  /** Changes what readiness counts this target as (a reload of `required`). */
  setRequired(required: boolean): void {
    this.#required = required;
  }

  /**
   * Puts `next` (already started and connected) in force: new operations go to it from now on; the old target
   * is stopped once its running operations ended, or after `drainMs` at most. Resolves when the old one stopped.
   */
  replace(next: Target<Client>, drainMs: number): Promise<void> {
    const old = this.#gen;
    for (const off of old.offs.splice(0)) off();
    this.#gen = this.#attach(next);
    this.#required = undefined;
    return this.#drain(old, drainMs);
  }

  /** For a target a reload removed: stops it once its running operations ended (or after `drainMs`). */
  retire(drainMs: number): Promise<void> {
    for (const off of this.#gen.offs.splice(0)) off();
    return this.#drain(this.#gen, drainMs);
  }

  start(options?: StartOptions): Promise<void> {
    return this.#gen.target.start(options);
  }

  /** Stops the target in force and any replaced one still finishing its operations. */
  async stop(): Promise<void> {
    const draining = [...this.#draining];
    for (const d of draining) d.release();
    await Promise.all([this.#gen.target.stop(), ...draining.map((d) => d.target.stop())]);
    await Promise.all(draining.map((d) => d.done));
  }

  execute<T>(op: Operation<Client, T>, options?: ExecuteOptions): Promise<T> {
    const gen = this.#gen;
    gen.active++;
    const done = (): void => {
      if (--gen.active === 0) gen.onIdle?.();
    };
    const result = gen.target.execute(op, options);
    result.then(done, done);
    return result;
  }

  isConnected(): boolean {
    return this.#gen.target.isConnected();
  }

  lastError(): ReconnectError | Error | undefined {
    return this.#gen.target.lastError();
  }

  health(): TargetHealth {
    const h = this.#gen.target.health();
    return this.#required === undefined ? h : { ...h, required: this.#required };
  }

  /** The connection source of the target in force, as its executor sees it (for tests and tools). */
  acquire(request: AcquireRequest): ReturnType<ConnectionSource<Client>['acquire']> {
    const t = this.#gen.target as Target<Client> & {
      acquire?: (r: AcquireRequest) => ReturnType<ConnectionSource<Client>['acquire']>;
    };
    if (t.acquire === undefined) throw new TypeError(`Target "${this.name}" has no acquire()`);
    return t.acquire(request);
  }

  #attach(target: Target<Client>): Generation<Client> {
    const forward = <K extends keyof TargetEvents>(name: K): (() => void) =>
      target.on(name, (payload) => this.emit(name, payload));
    const offs = eventNames.map((name) => forward(name));
    return { target, active: 0, onIdle: undefined, offs };
  }

  // Waits for the generation's operations (bounded), then stops its target.
  #drain(gen: Generation<Client>, drainMs: number): Promise<void> {
    let release = (): void => undefined;
    const idle = new Promise<void>((resolve) => {
      if (gen.active === 0) return resolve();
      // A real timer on purpose, unref'd: the bound is a safety net against an operation that never settles.
      const timer = setTimeout(resolve, Math.max(0, drainMs));
      timer.unref();
      release = () => {
        clearTimeout(timer);
        resolve();
      };
      gen.onIdle = release;
    });
    const entry = { target: gen.target, release: () => release(), done: Promise.resolve() };
    entry.done = idle
      .then(() => gen.target.stop())
      .catch(() => undefined)
      .finally(() => this.#draining.delete(entry));
    this.#draining.add(entry);
    return entry.done;
  }
}
