import { writeFileSync } from 'node:fs';
import {
  createTarget,
  resolvePolicy,
  validateDriverOptions,
  type Driver,
  type ResolvedPolicy,
  type Target,
  type TargetOptions,
} from '@reconnect/core';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../proxy/fault-proxy.js';
import type { ServerHandle } from '../servers/server-handle.js';
import { withTimeout } from '../util/wait.js';
import { createCountingClock, type CountingClock } from './counting-clock.js';
import { conformanceBounds, conformancePolicy, mergePolicies } from './policy.js';
import {
  formatConformanceTable,
  scenarioNames,
  type ConformanceReport,
  type ScenarioName,
  type ScenarioResult,
} from './report.js';
import * as scenarios from './scenarios.js';
import type { ScenarioContext } from './scenarios.js';
import { catalogueFault, proxyFault, type FaultScenarioName } from './fault-scenario.js';
import type { ConformanceOptions, Endpoint } from './types.js';

const titles: Record<ScenarioName, string> = {
  'crash-restart':
    'crash (SIGKILL) and restart: detected, reconnects once, an operation issued during the outage succeeds',
  hang: 'hang (SIGSTOP): detected within the health-check bound, no operation waits past its deadline, recovers after resume',
  blackhole:
    'blackhole (accepts, forwards nothing): detected, no operation waits past its deadline, recovers',
  reset:
    'reset (RST on every connection): detected, reconnects once, an operation issued during the outage succeeds',
  'unknown-outcome':
    'a non-idempotent write whose reply is lost: outcome unknown, ran exactly once on the server',
  auth: 'bad credentials: classified auth, not retried, reported at once',
  stop: 'stop(): closes every connection and leaves no socket or timer behind',
};

const run: Record<ScenarioName, <C>(ctx: ScenarioContext<C>, result: ScenarioResult) => Promise<void>> = {
  'crash-restart': scenarios.crashRestart,
  hang: scenarios.hang,
  blackhole: scenarios.blackhole,
  reset: scenarios.reset,
  'unknown-outcome': scenarios.unknownOutcome,
  auth: scenarios.auth,
  stop: scenarios.stop,
};

const testTitle = (name: ScenarioName | FaultScenarioName): string =>
  name.startsWith('fault:')
    ? `${name}: ${proxyFault(name.slice(6)).title}, under load: no write duplicated or lost, every operation within its deadline, reads served after it`
    : `${name}: ${titles[name as ScenarioName]}`;
const didNotRun = 'did not run (the server or a hook failed first)';

type CreateTarget<O, C> = (options: TargetOptions<O, C>) => Target<C>;

/**
 * Registers a Vitest `describe` block that puts `driver` through the faults every Reconnect driver must
 * survive: crash and restart, hang, blackhole, reset, a lost reply to a non-idempotent write, bad
 * credentials, and a clean stop. One throwaway server serves the whole suite; faults that need the
 * network go through a fault proxy. Returns the report, filled in as the scenarios run (complete in
 * `onReport`, and printed as a table after the suite).
 */
export function runDriverConformance<Options, Client, Server extends ServerHandle = ServerHandle>(
  config: ConformanceOptions<Options, Client, Server>,
): ConformanceReport {
  const slackMs = config.slackMs ?? 500;
  const outageMs = config.outageMs ?? 1500;
  const policy = mergePolicies(conformancePolicy, config.policy);
  const report: ConformanceReport = {
    driver: config.driver.name,
    server: 'a throwaway server',
    policy,
    results: [],
  };
  let server: Server | undefined;
  let calls = 0;
  const targets: Target<Client>[] = [];
  // Each target's own counting clock, so the stop scenario can assert that no timer outlives stop().
  const clocks = new WeakMap<Target<Client>, CountingClock>();
  const proxies: FaultProxy[] = [];
  // Resolved once, for the ConnectContext of the fresh control clients (setup, countWrites).
  let resolvedPolicy: ResolvedPolicy | undefined;

  // Counts connect calls without changing the driver: every other member is the driver's own.
  const driver = Object.create(config.driver, {
    connect: {
      value: (options: Options, ctx: Parameters<Driver<Options, Client>['connect']>[1]) => {
        calls++;
        return config.driver.connect(options, ctx);
      },
    },
  }) as Driver<Options, Client>;

  const requireServer = (): Server => {
    if (server === undefined) throw new Error('The conformance server did not start');
    return server;
  };
  const endpointOf = (s: ServerHandle): Endpoint => ({ host: s.host, port: s.port });

  const context = (): ScenarioContext<Client> => {
    const s = requireServer();
    const create: CreateTarget<Options, Client> = config.createTarget ?? createTarget;
    return {
      server: s,
      driver: driver,
      connectCalls: () => calls,
      operations: config.operations,
      direct: endpointOf(s),
      target(endpoint, options = {}) {
        const make = options.badAuth === true ? config.badAuthOptions : config.options;
        if (make === undefined) throw new Error('badAuthOptions is required for the auth scenario');
        const clock = createCountingClock();
        const target = create({
          name: `conformance-${config.driver.name}`,
          driver,
          options: make(endpoint, s),
          policy: mergePolicies(policy, options.policy),
          clock,
        });
        targets.push(target);
        clocks.set(target, clock);
        return target;
      },
      pendingTimers(target) {
        const clock = clocks.get(target);
        if (clock === undefined) throw new Error('pendingTimers: not a target of this suite');
        return clock.pending();
      },
      async proxy() {
        const proxy = await startFaultProxy({ target: endpointOf(s) });
        proxies.push(proxy);
        return proxy;
      },
      withControl: async (fn) => {
        const name = `conformance-${config.driver.name}-control`;
        // Parsed like a target would (defaults, transforms), since this client skips createTarget.
        const options = validateDriverOptions(config.driver, config.options(endpointOf(s), s), {
          target: name,
        });
        const node = config.driver.nodes?.(options)[0];
        const client = await config.driver.connect(options, {
          signal: AbortSignal.timeout(10_000),
          policy: (resolvedPolicy ??= resolvePolicy(policy)),
          target: name,
          ...(node === undefined ? {} : { node }),
        });
        try {
          return await fn(client);
        } finally {
          await config.driver.close(client);
        }
      },
      bounds: (p) => conformanceBounds(p, slackMs, config.detectionSlackMs),
      slackMs,
      outageMs,
    };
  };

  describe(config.name ?? `driver conformance: ${config.driver.name}`, () => {
    beforeAll(async () => {
      server = await config.server();
      report.server = `${server.kind} on 127.0.0.1:${server.port}`;
      if (config.operations.setup !== undefined) await context().withControl(config.operations.setup);
    }, 120_000);

    afterEach(async () => {
      // Undo the scenario's faults and release its targets, bounded, even when the scenario failed.
      await Promise.allSettled(targets.splice(0).map((t) => withTimeout('target.stop()', t.stop(), 5000)));
      await Promise.allSettled(proxies.splice(0).map((p) => p.close()));
      if (server?.status === 'hung') await server.resume();
      if (server?.status === 'killed') await server.restart();
    }, 30_000);

    // Vitest requires a destructuring pattern for the (unused) context argument.
    // eslint-disable-next-line no-empty-pattern
    afterAll(async ({}, suite) => {
      markFiltered(suite.tasks);
      await server?.stop();
      server = undefined;
      if (config.print !== false) console.log(`\n${formatConformanceTable(report)}\n`);
      if (config.reportFile !== undefined)
        writeFileSync(config.reportFile, `${formatConformanceTable(report)}\n`);
      await config.onReport?.(report);
    }, 30_000);

    // A scenario whose test Vitest filtered out (`-t`) is marked `skip` and never got a result: it did not
    // fail, so the report must not say so.
    const markFiltered = (tasks: readonly { name: string; mode: string; result?: unknown }[]): void => {
      for (const result of report.results) {
        if (result.error !== didNotRun) continue;
        const task = tasks.find((t) => t.name === testTitle(result.scenario));
        if (task?.mode !== 'skip' || task.result !== undefined) continue;
        result.status = 'skipped';
        delete result.error;
        result.notes = 'skipped (filtered)';
      }
    };

    for (const name of scenarioNames) {
      const result: ScenarioResult = { scenario: name, status: 'skipped' };
      report.results.push(result);
      const reason =
        config.skip?.[name] ??
        (name === 'auth' && config.badAuthOptions === undefined ? 'no badAuthOptions given' : undefined);
      if (reason !== undefined) {
        result.notes = `skipped: ${reason}`;
        it.skip(testTitle(name), () => undefined);
        continue;
      }
      // Until the scenario finishes, a report (e.g. after a failed beforeAll) must not show it as skipped.
      result.status = 'failed';
      result.error = didNotRun;
      register(name, result, (r) => run[name](context(), r));
    }
    // Catalogue faults asked for, checked now: a name the suite cannot apply fails the registration, not a run.
    for (const fault of config.faults ?? []) {
      proxyFault(fault);
      const name: FaultScenarioName = `fault:${fault}`;
      const result: ScenarioResult = { scenario: name, status: 'failed', error: didNotRun };
      report.results.push(result);
      register(name, result, (r) => catalogueFault(context(), r, fault));
    }
  });

  // One scenario's test: runs it, recording its outcome in `result` (the report's row).
  function register(
    name: ScenarioName | FaultScenarioName,
    result: ScenarioResult,
    body: (result: ScenarioResult) => Promise<void>,
  ): void {
    it(
      testTitle(name),
      async () => {
        delete result.error;
        try {
          await body(result);
          result.status = 'passed';
        } catch (error) {
          result.status = 'failed';
          result.error = error instanceof Error ? error.message : String(error);
          throw error;
        }
      },
      30_000,
    );
  }

  return report;
}
