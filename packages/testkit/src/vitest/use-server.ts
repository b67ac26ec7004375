import { afterAll, afterEach, beforeAll } from 'vitest';
import type { ServerHandle } from '../servers/server-handle.js';

/** Options of {@link useServer}. */
export interface UseServerOptions {
  /**
   * After each test, bring a faulted server back: resume it if hung, restart it if killed.
   * Default true, so one test's fault never leaks into the next.
   */
  heal?: boolean;
}

/**
 * Starts a server in `beforeAll` and stops it in `afterAll` (also when tests fail or time out);
 * returns a getter for the handle. Call it at the top of a `describe` or a test file.
 *
 * ```ts
 * const redis = useServer(() => startRedis());
 * it('survives a crash', async () => { await redis().kill(); ... });
 * ```
 */
export function useServer<S extends ServerHandle>(
  start: () => Promise<S>,
  { heal = true }: UseServerOptions = {},
): () => S {
  let server: S | undefined;
  beforeAll(async () => {
    server = await start();
  });
  if (heal) {
    afterEach(async () => {
      if (server === undefined) return;
      if (server.status === 'hung') await server.resume();
      if (server.status === 'killed') await server.restart();
    });
  }
  afterAll(async () => {
    await server?.stop();
    server = undefined;
  });
  return () => {
    if (server === undefined)
      throw new Error('useServer(): the server is only available inside tests and hooks');
    return server;
  };
}
