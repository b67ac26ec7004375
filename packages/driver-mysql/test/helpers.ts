import {
  createTarget,
  resolvePolicy,
  type ConnectContext,
  type PolicyInput,
  type ResolvedPolicy,
  type Target,
} from '@reconnect/core';
import { presets } from '@reconnect/policies';
import mysql from 'mysql2/promise';
import {
  mysqlDriver,
  mysqlOptionsSchema,
  type MySqlDriverOptionsInput,
  type MySqlPool,
} from '../src/index.js';

/** The drivers' shared fault-test workload. */
export { opStream, outcomeWithin, until, whenAccepting, type OpResult } from '@reconnect/testkit';

/** A ConnectContext for calling the driver directly, as the lifecycle would. */
export function connectContext(
  policy: PolicyInput | ResolvedPolicy = {},
  signal = new AbortController().signal,
): ConnectContext {
  return { policy: resolvePolicy(policy), signal, target: 'test' };
}

/** A preset's policy as a PolicyInput (presets are plain data in the same shape). */
export function preset(name: 'mysql' | 'fast-failover'): PolicyInput {
  const p = presets[name];
  if (p === undefined) throw new Error(`no preset ${name}`);
  return p.policy;
}

/** A target (not started) of the MySQL driver. */
export function mysqlTarget(
  options: MySqlDriverOptionsInput,
  policy: PolicyInput = {},
  name = 'db',
): Target<MySqlPool> {
  return createTarget({ name, driver: mysqlDriver, options: mysqlOptionsSchema.parse(options), policy });
}

/** A plain mysql2 connection (no driver), for setting up and checking the server side. */
export function control(port: number, database = 'test'): Promise<mysql.Connection> {
  return mysql.createConnection({ host: '127.0.0.1', port, user: 'root', database });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A unique name for a table or database on the shared server. */
export const uniqueName = (prefix: string) =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
