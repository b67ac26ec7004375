/** Presets: filled in by the foundation work. */
export const presets: Readonly<Record<string, { description: string; sources: readonly string[]; policy: object }>> = {};
