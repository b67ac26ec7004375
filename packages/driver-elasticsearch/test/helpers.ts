import {
  createTarget,
  resolvePolicy,
  type ConnectContext,
  type Logger,
  type PolicyInput,
  type ResolvedPolicy,
  type Target,
} from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { elasticsearchDriver, elasticsearchOptionsSchema, type ElasticsearchClient } from '../src/index.js';

/** A ConnectContext for calling the driver directly, as the lifecycle would. */
export function connectContext(
  node: string,
  policy: PolicyInput | ResolvedPolicy = {},
  signal = new AbortController().signal,
): ConnectContext {
  const options = elasticsearchOptionsSchema.parse({ node });
  const address = elasticsearchDriver.nodes!(options)[0]!;
  return { policy: resolvePolicy(policy), signal, target: 'test', node: address };
}

/** Resolves when `predicate` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  everyMs = 5,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The elasticsearch preset's policy as a PolicyInput. */
export function preset(name: 'elasticsearch' | 'fast-failover' = 'elasticsearch'): PolicyInput {
  const p = presets[name];
  if (p === undefined) throw new Error(`no preset ${name}`);
  return p.policy;
}

const targets: Target<ElasticsearchClient>[] = [];

/** A target on `urls` (not started), stopped by {@link stopTargets}. */
export function esTarget(
  urls: readonly string[],
  policy: PolicyInput,
  extra: Record<string, unknown> = {},
  logger?: Logger,
): Target<ElasticsearchClient> {
  const target = createTarget({
    name: 'search',
    driver: elasticsearchDriver,
    options: elasticsearchOptionsSchema.parse({ nodes: [...urls], ...extra }),
    policy,
    ...(logger === undefined ? {} : { logger, logLevel: 'debug' as const }),
  });
  targets.push(target);
  return target;
}

/** Stops every target made by {@link esTarget} (afterEach). */
export async function stopTargets(): Promise<void> {
  await Promise.allSettled(targets.splice(0).map((t) => t.stop()));
}

/** Runs `op` every `everyMs` until stopped; records when each call started and settled. */
export function opStream(
  everyMs: number,
  op: () => Promise<unknown>,
): {
  stop(): Promise<void>;
  results: { startedAt: number; settledAt: number; ok: boolean; error?: unknown; value?: unknown }[];
  firstSuccessAfter(t: number): number | undefined;
} {
  const results: { startedAt: number; settledAt: number; ok: boolean; error?: unknown; value?: unknown }[] =
    [];
  const pending = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    const startedAt = Date.now();
    const p = op().then(
      (value) => results.push({ startedAt, settledAt: Date.now(), ok: true, value }),
      (error: unknown) => results.push({ startedAt, settledAt: Date.now(), ok: false, error }),
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, everyMs);
  return {
    results,
    async stop() {
      clearInterval(timer);
      await Promise.allSettled([...pending]);
    },
    firstSuccessAfter(t) {
      const ok = results.filter((r) => r.ok && r.settledAt >= t).map((r) => r.settledAt);
      return ok.length === 0 ? undefined : Math.min(...ok);
    },
  };
}
