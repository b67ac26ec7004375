import type { Driver, Operation, PolicyInput, Target, TargetOptions } from '@reconnect/core';
import type { ServerHandle } from '../servers/server-handle.js';
import type { ConformanceReport, ScenarioName } from './report.js';

/** Where a driver should connect: the server itself, or a fault proxy in front of it. */
export interface Endpoint {
  host: string;
  port: number;
}

/** The operations the suite runs through the driver's client. */
export interface ConformanceOperations<Client> {
  /** A read that is harmless to repeat, e.g. `(redis) => redis.get('conformance')` or `SELECT 1`. */
  idempotentRead: Operation<Client, unknown>;
  /**
   * A write that must run at most once, counted on the server, e.g. `(redis) => redis.incr('conformance:writes')`
   * or `INSERT INTO conformance_writes VALUES (DEFAULT)`. It must be the first request sent on its connection
   * once the suite cuts the connection (no validation query in front of it).
   */
  nonIdempotentWrite: Operation<Client, unknown>;
  /** How many times `nonIdempotentWrite` has run, read on the server through a fresh client. */
  countWrites: (client: Client) => Promise<number>;
  /** Prepares the server once before the scenarios (create a table…), through a fresh client. */
  setup?: (client: Client) => Promise<void>;
}

/** Options of {@link runDriverConformance}. */
export interface ConformanceOptions<Options, Client, Server extends ServerHandle = ServerHandle> {
  /** The driver under test. */
  driver: Driver<Options, Client>;
  /** Starts the throwaway server the suite faults, once for the whole suite: `() => startRedis()`. */
  server: () => Promise<Server>;
  /** Driver options pointing at `endpoint` (the suite passes the server or a fault proxy in front of it). */
  options: (endpoint: Endpoint, server: Server) => Options;
  /** Driver options with credentials the server refuses; omit to skip the `auth` scenario. */
  badAuthOptions?: ((endpoint: Endpoint, server: Server) => Options) | undefined;
  operations: ConformanceOperations<Client>;
  /** Policy changes merged over {@link conformancePolicy} (keep it fast: the suite budget is one minute). */
  policy?: PolicyInput | undefined;
  /**
   * Network faults of the testkit's catalogue (`faultCatalogue`, group `network`: `reset-mid-reply`, `flapping`,
   * `latency-spike`, `fragments`…) to put the driver through as well, each under a steady load of reads and writes
   * through the fault proxy (scenario `fault:<name>`): no write duplicated or lost, every operation within its
   * deadline, reads served after the fault. None by default. A fault that is not a proxy fault is refused at once.
   */
  faults?: readonly string[] | undefined;
  /** Scenarios to skip, each with the reason the report shows. */
  skip?: Partial<Record<ScenarioName, string>> | undefined;
  /** Title of the `describe` block. Default `driver conformance: <driver.name>`. */
  name?: string | undefined;
  /** Timing slack added to the recovery and deadline bounds, in ms. Default 500 (two shared cores, other tests running). */
  slackMs?: number | undefined;
  /**
   * Slack added to the health check's worst case detection (`worstCaseDetectionMs`) for the detection bound,
   * in ms. Default `defaultDetectionSlackMs` (200).
   */
  detectionSlackMs?: number | undefined;
  /** How long each outage lasts before the server or proxy is healed, in ms. Default 1500. */
  outageMs?: number | undefined;
  /** Called with the complete report after the last scenario. */
  onReport?: ((report: ConformanceReport) => void | Promise<void>) | undefined;
  /** Also write the report's Markdown table to this file. */
  reportFile?: string | undefined;
  /** Print the table to the console after the suite. Default true. */
  print?: boolean | undefined;
  /**
   * The target factory; default `createTarget` from `@reconnect/core` (replace it to test the suite itself).
   * It receives a counting `clock` that it must pass on: the `stop` scenario asserts none of its timers is
   * pending after `stop()`.
   */
  createTarget?: ((options: TargetOptions<Options, Client>) => Target<Client>) | undefined;
}
