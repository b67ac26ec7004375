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

/** The drivers' shared fault-test workload. */
export { opStream, until } from '@reconnect/testkit';

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
