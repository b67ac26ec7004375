// What crosses between a node process and the coordinator. Types only: node-main.ts imports them with
// `import type`, so the node script stays free of runtime imports from the rest of the testkit.

/** Header every readiness probe carries; the coordinator answers it without applying faults or logging it. */
export const PROBE_HEADER = 'x-reconnect-testkit-probe';

/** An HTTP request a node received, as it forwards it to the coordinator (`POST /forward/<nodeId>`). */
export interface ForwardedRequest {
  method: string;
  /** Path and query string, as received. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The request body, base64. */
  body: string;
}

/** A complete HTTP answer for the node to write. */
export interface ResponsePlan {
  status: number;
  headers: Record<string, string>;
  /** The response body (UTF-8); ignored for HEAD. */
  body: string;
  /** Hold the answer this long before writing it (added latency). */
  delayMs: number;
}

/** What the coordinator tells the node to do with the request. */
export type NodeInstruction =
  | ({ action: 'respond' } & ResponsePlan)
  /** Keep the connection open and never answer. */
  | { action: 'never' }
  /** Write the status line, the headers and `afterBytes` bytes of the body, then reset the connection (RST). */
  | ({ action: 'reset'; afterBytes: number } & ResponsePlan);
