import { ServerStartError } from '../errors.js';
import { freePort } from '../net/free-port.js';
import { ServerProcess, type ServerSpec } from './server-process.js';

/** Options every server helper accepts. */
export interface BaseServerOptions {
  /** A fixed port; by default a free one is picked (and re-picked if another process grabs it first). */
  port?: number;
  /** How long to wait for readiness on each (re)start, in ms. Default 20 000. */
  startTimeoutMs?: number;
}

const addressInUse = /address already in use|EADDRINUSE|could not bind|Can't start server: Bind/i;

/**
 * Creates and starts a server from `prepare(port)` (which creates its directory and returns the spec).
 * When the port was picked here and turns out to be taken, tries again with a new port (3 times at most).
 */
export async function launch(
  options: BaseServerOptions,
  prepare: (port: number) => ServerSpec | Promise<ServerSpec>,
): Promise<ServerProcess> {
  const attempts = options.port === undefined ? 3 : 1;
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    const port = options.port ?? (await freePort());
    const server = new ServerProcess(await prepare(port));
    try {
      await server.start(options.startTimeoutMs);
      return server;
    } catch (error) {
      lastError = error;
      const log = server.logs();
      await server.stop({ graceMs: 0 });
      if (!(error instanceof ServerStartError) || !addressInUse.test(log)) throw error;
    }
  }
  throw lastError;
}
