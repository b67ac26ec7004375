export * from './units.js';
export * from './schema.js';
export type * from './resolved.js';
export { builtinDefaults } from './defaults.js';
