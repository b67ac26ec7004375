// Driver kit: refusing client options the policy owns. A driver lists them with the reason (which policy field
// to use instead); giving one in a target's `options` is then a located config error saying so.
import { z } from 'zod';

/** The refusal schema of one policy-owned option: absent is fine, any value is an issue carrying `why`. */
function refuse(why: string) {
  // A custom issue (not zod's `never` type error), so the config error carries the reason.
  return z
    .unknown()
    .refine(() => false, { error: `Set by the target's policy: ${why}` })
    .optional();
}

/** One refusal per key of `owned` (key → why), to spread into a driver's options object schema. */
export function policyOwnedOptions<K extends string>(
  owned: Readonly<Record<K, string>>,
): Record<K, ReturnType<typeof refuse>> {
  return Object.fromEntries(Object.entries<string>(owned).map(([key, why]) => [key, refuse(why)])) as Record<
    K,
    ReturnType<typeof refuse>
  >;
}
