import { z } from 'zod';
import { configSchema } from './schema.js';

/**
 * The JSON Schema of the policy file, generated from the zod schema (input side: durations as
 * strings or milliseconds). Functions (`retryIf`, `delay`, a custom selector) cannot be expressed
 * and are accepted as anything. Editors use it for completion in YAML and JSON.
 */
export function configJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchema, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  });
  return {
    $schema: schema['$schema'],
    title: 'Reconnect policy file',
    description: 'Targets and the policies that keep their connections alive (reconnect.config.yaml).',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
