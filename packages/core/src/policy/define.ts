import type { ConfigInput, ExtendablePolicyInput } from './schema.js';

/**
 * Types a configuration written in code (`reconnect.config.ts`) and returns it unchanged;
 * there, `retry.retryIf`, `retry.delay`, `reconnect.delay` and `pool.selector` may be functions.
 */
export function defineConfig<const C extends ConfigInput>(config: C): C {
  return config;
}

/** Types a policy written in code (it may `extends: 'preset:NAME'`) and returns it unchanged. */
export function definePolicy<const P extends ExtendablePolicyInput>(policy: P): P {
  return policy;
}
