// The public surface of the policy area: schema, types, loader, resolution, redaction.
export * from './units.js';
export * from './schema.js';
export type * from './resolved.js';
export { builtinDefaults } from './defaults.js';
export { defineConfig, definePolicy } from './define.js';
export { describeError, secretValues } from './describe-error.js';
export { interpolate, type Environment, type Interpolated } from './interpolate.js';
export {
  mergeLayers,
  type MergeResult,
  type PolicyLayer,
  type PolicySource,
  type Provenance,
} from './merge.js';
export { checkPolicyConsistency } from './consistency.js';
export {
  changeEffects,
  changePath,
  describeChange,
  diffConfigs,
  diffTarget,
  type ChangeArea,
  type ConfigChange,
  type ConfigDiff,
  type DiffableTarget,
} from './config-diff.js';
export { configJsonSchema } from './json-schema.js';
export { didYouMean, editDistance } from './did-you-mean.js';
export {
  knownKeysAt,
  policyValueKind,
  zodIssuesToConfigIssues,
  type ZodIssueConversionOptions,
} from './issues.js';
export { REDACTED, isSecretKey, isSecretPath, redactSecrets, redactString } from './redact.js';
export {
  isConfigInput,
  resolveConfig,
  resolvePolicy,
  resolvePolicyWithProvenance,
  type ResolveConfigOptions,
  type ResolvedConfig,
  type ResolvedPolicyWithProvenance,
  type ResolvedTarget,
} from './resolve.js';
export {
  INTERNAL_ISSUE_KIND,
  MODULE_NAME,
  loadConfig,
  readConfigFile,
  searchPlaces,
  type LoadConfigOptions,
  type RawConfig,
} from './loader.js';
export { presets, presetNames, getPreset, type Preset } from '@reconnect/policies';
