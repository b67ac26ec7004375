// The parts a TargetSource works with, as small fakes a test steers directly: a reconnector whose status the test
// sets, node slots with leases the test hands out, a real node pool and a real health checker on a fake clock.
import type { Driver } from '../../src/driver/driver.js';
import type { AcquireRequest, AttemptContext, Lease } from '../../src/engine/types.js';
import type { NodeAddress } from '../../src/node-address.js';
import { resolvePolicy } from '../../src/policy/resolve.js';
import type { ResolvedPolicy } from '../../src/policy/resolved.js';
import { createFakeClock, type FakeClock } from '../../src/time/fake-clock.js';
import { HealthChecker } from '../../src/lifecycle/health/health-checker.js';
import { NodePool } from '../../src/lifecycle/nodes/node-pool.js';
import type { Reconnector } from '../../src/lifecycle/reconnect/reconnector.js';
import type { ReleasePacer, Waiter } from '../../src/lifecycle/reconnect/waiters.js';
import { TargetErrors } from '../../src/lifecycle/target/errors.js';
import type { NodeSlots, Slot } from '../../src/lifecycle/target/node-slots.js';
import { TargetSource, type TargetSourceParts } from '../../src/lifecycle/target/source.js';
import type { TargetState } from '../../src/lifecycle/types.js';

/** A fake client: the node it talks to, and the attempt a driver's bindAttempt bound it to. */
export interface FakeClient {
  node: string;
  attempt?: number;
}

export const nodeA: NodeAddress = { id: 'a:1', host: 'a', port: 1 };
export const nodeB: NodeAddress = { id: 'b:1', host: 'b', port: 1 };

/** A reconnector the test steers: its status, last error and how many wait; counts nudges and waits. */
export class FakeReconnector {
  status: TargetState = 'connected';
  error: unknown = undefined;
  /** What the source hangs its release pacer on (see Waiters.pacer); counts the releases it asks for. */
  waiters = {
    pacer: undefined as ReleasePacer | undefined,
    releases: 0,
    size: 0,
    releaseMore(): void {
      this.releases++;
    },
    /** What queues behind operations still being let go joins (the fake keeps nobody). */
    add(): void {},
    delete(): boolean {
      return false;
    },
  };
  nudges = 0;
  waits: unknown[] = [];
  /** What a wait does: by default it resolves at once, changing nothing. */
  onWait: () => Promise<void> = () => Promise.resolve();
  lastError(): unknown {
    return this.error;
  }
  nudge(): void {
    this.nudges++;
  }
  whenConnected(request: unknown): Promise<void> {
    this.waits.push(request);
    return this.onWait();
  }
  /** As the real one: the waiter is woken when the wait (`onWait`) ends. */
  join(waiter: Waiter, request: unknown): void {
    this.whenConnected(request).then(
      () => waiter.settle(undefined),
      (error: unknown) => waiter.settle(error),
    );
  }
}

/** Slots the test fills: `leases` maps a node id (or `''` for a single server) to its lease, if it has one. */
export class FakeSlots {
  readonly all: Slot<FakeClient>[] = [];
  connects: string[] = [];
  /** What connecting a node's slot does; by default it gives the slot a lease. */
  onConnect: (slot: Slot<FakeClient>, signal: AbortSignal) => Promise<FakeClient> = (slot) => {
    const client = { node: slot.node?.id ?? '' };
    slot.lease = slot.node === undefined ? { client } : { client, node: slot.node };
    return Promise.resolve(client);
  };
  add(node: NodeAddress | undefined, connected = true): Slot<FakeClient> {
    const client = { node: node?.id ?? '' };
    const lease: Lease<FakeClient> | undefined = !connected
      ? undefined
      : node === undefined
        ? { client }
        : { client, node };
    const slot: Slot<FakeClient> = {
      ...{ node, client: connected ? client : undefined, lease },
      ...{ unwatch: undefined, connecting: undefined },
    };
    this.all.push(slot);
    return slot;
  }
  /** The pools' size, as NodeSlots.capacity() reports it (undefined: no pool). */
  poolSize: number | undefined = undefined;
  capacity(): number | undefined {
    return this.poolSize;
  }
  get(id: string): Slot<FakeClient> | undefined {
    return this.all.find((s) => s.node?.id === id);
  }
  connect(slot: Slot<FakeClient>, signal: AbortSignal): Promise<FakeClient> {
    this.connects.push(slot.node?.id ?? '');
    return this.onConnect(slot, signal);
  }
}

/** A policy over the defaults, with health thresholds of 3 failures / 1 success and probing off. */
export function policyWith(reconnect: Record<string, unknown> = {}): ResolvedPolicy {
  return resolvePolicy({
    healthCheck: { enabled: false, failureThreshold: 3, successThreshold: 1 },
    reconnect: { connectTimeout: 1000, ...reconnect },
    pool: { nodeFailureThreshold: 1, resurrect: 'none' },
  } as never);
}

/** What a test builds a source from and looks at afterwards. */
export interface SourceSetup {
  source: TargetSource<unknown, FakeClient>;
  clock: FakeClock;
  reconnector: FakeReconnector;
  slots: FakeSlots;
  pool: NodePool | undefined;
  health: HealthChecker;
}

/** A source over fake parts: a single server (`nodes` empty) or a pool of `nodes`, each with a connected slot. */
export function setup(
  o: {
    nodes?: readonly NodeAddress[];
    policy?: ResolvedPolicy;
    bind?: TargetSourceParts<unknown, FakeClient>['bind'];
  } = {},
): SourceSetup {
  const clock = createFakeClock(0);
  const policy = o.policy ?? policyWith();
  const reconnector = new FakeReconnector();
  const slots = new FakeSlots();
  const nodes = o.nodes ?? [];
  if (nodes.length === 0) slots.add(undefined);
  for (const n of nodes) slots.add(n);
  const pool = nodes.length === 0 ? undefined : new NodePool({ nodes, policy: policy.pool, clock });
  const health = new HealthChecker({ policy: policy.healthCheck, clock, probe: () => Promise.resolve() });
  const driver = { name: 'fake', classify: () => ({ kind: 'connection' }) } as unknown as Driver;
  const source = new TargetSource<unknown, FakeClient>({
    ...{ policy, clock, health, pool, bind: o.bind },
    reconnector: reconnector as unknown as Reconnector,
    slots: slots as unknown as NodeSlots<unknown, FakeClient>,
    errors: new TargetErrors('t', driver, {}),
  });
  return { source, clock, reconnector, slots, pool, health };
}

/** An acquire request of attempt 1 with no limits unless `over` sets them. */
export function request(over: Partial<AcquireRequest> = {}): AcquireRequest {
  const signal = over.signal ?? new AbortController().signal;
  const base = {
    ...{ attempt: 1, signal, aborted: signal.aborted, reason: signal.reason as unknown },
    ...{ avoid: undefined, deadlineAt: 10_000, attemptTimeoutMs: 0, readOnly: false },
    onAbort: () => {},
    offAbort: () => {},
    ...over,
  };
  const context = { ...base, node: undefined, timeoutMs: Infinity } as AttemptContext;
  return { ...base, context };
}
