// Writes packages/core/src/version.ts from packages/core/package.json (run by `npm run build`).
import { readFileSync, writeFileSync } from 'node:fs';

const pkgUrl = new URL('../packages/core/package.json', import.meta.url);
const outUrl = new URL('../packages/core/src/version.ts', import.meta.url);
const { name, version } = JSON.parse(readFileSync(pkgUrl, 'utf8'));
const text = `// Generated from package.json by scripts/gen-version.mjs; do not edit by hand.
/** The package name, used as the OpenTelemetry tracer and meter name. */
export const PACKAGE_NAME = '${name}';
/** The package version, used as the OpenTelemetry tracer and meter version. */
export const PACKAGE_VERSION = '${version}';
`;
if (readFileSync(outUrl, 'utf8') !== text) writeFileSync(outUrl, text);
