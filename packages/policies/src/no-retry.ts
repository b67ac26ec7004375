import { definePreset } from './preset.js';

/**
 * Operations are never retried; every failure goes straight to the caller. The connection itself
 * is still re-established in the background (otherwise one blip would end the target for good).
 */
export const noRetry = definePreset({
  name: 'no-retry',
  description: 'No operation retries (each failure reaches the caller); connections are still re-established',
  sources: [
    'go-micro Retries(0) and olivere/elastic v7 (no retries by default): the caller decides',
    'elasticsearch-php SimpleConnectionPool: no tracking, for debugging — here the pool still marks dead nodes',
  ],
  policy: {
    retry: { maxRetries: 0, budget: { enabled: false } },
  },
});
