import { z } from 'zod';
import { configSchema } from './schema.js';

const envReferencePattern = '^\\$\\{[^}]+\\}$';

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
    // Numbers and booleans may be written as one `${VAR}` reference (converted after interpolation).
    override: ({ jsonSchema }) => {
      const type = jsonSchema.type;
      if ((type !== 'number' && type !== 'integer' && type !== 'boolean') || 'const' in jsonSchema) return;
      const typed: Record<string, unknown> = { ...jsonSchema };
      for (const k of Object.keys(jsonSchema)) delete (jsonSchema as Record<string, unknown>)[k];
      const { description, ...rest } = typed;
      Object.assign(jsonSchema, {
        anyOf: [rest, { type: 'string', pattern: envReferencePattern }],
        ...(description === undefined ? {} : { description }),
      });
    },
  });
  return {
    $schema: schema['$schema'],
    title: 'Reconnect policy file',
    description: 'Targets and the policies that keep their connections alive (reconnect.config.yaml).',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
