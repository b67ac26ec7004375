import { createTarget, type PolicyInput, type Target } from '@reconnect/core';
import { presets } from '@reconnect/policies';
import { redisDriver, redisOptionsSchema, type RedisClient } from '../src/index.js';

/** The drivers' shared fault-test workload. */
export { opStream, whenAccepting } from '@reconnect/testkit';

/** A preset's policy as a PolicyInput (presets are plain data in the same shape). */
export function preset(name: 'redis' | 'fast-failover'): PolicyInput {
  const p = presets[name];
  if (p === undefined) throw new Error(`no preset ${name}`);
  return p.policy;
}

/** A started Redis target on `port`, with `policy`. */
export async function startTarget(
  port: number,
  policy: PolicyInput,
  name = 'cache',
): Promise<Target<RedisClient>> {
  const target = createTarget({
    name,
    driver: redisDriver,
    options: redisOptionsSchema.parse({ port }),
    policy,
  });
  await target.start();
  return target;
}
