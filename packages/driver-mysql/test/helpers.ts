import { createConnection, type Socket } from 'node:net';
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
export { opStream, type OpResult } from '@reconnect/testkit';

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

/** Resolves when `predicate` holds, polling every `everyMs`; rejects after `timeoutMs`. */
export async function until(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  everyMs = 5,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How a promise ended within `ms`: settled (with value or error) or still pending. */
export async function settledWithin<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ state: 'fulfilled'; value: T } | { state: 'rejected'; error: unknown } | { state: 'pending' }> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<{ state: 'pending' }>((r) => {
    timer = setTimeout(() => r({ state: 'pending' }), ms);
  });
  const result = await Promise.race([
    promise.then(
      (value) => ({ state: 'fulfilled' as const, value }),
      (error: unknown) => ({ state: 'rejected' as const, error }),
    ),
    pending,
  ]);
  clearTimeout(timer);
  return result;
}

/** Resolves with the time (Date.now) the port first accepts a TCP connection; polls every `everyMs`. */
export function whenAccepting(port: number, everyMs = 2, timeoutMs = 30_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  return new Promise<number>((resolve, reject) => {
    const tryOnce = () => {
      if (Date.now() > end) return reject(new Error(`port ${port} not accepting within ${timeoutMs} ms`));
      const socket: Socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        const t = Date.now();
        socket.destroy();
        resolve(t);
      });
      socket.once('error', () => {
        socket.destroy();
        setTimeout(tryOnce, everyMs);
      });
    };
    tryOnce();
  });
}

/** A unique name for a table or database on the shared server. */
export const uniqueName = (prefix: string) =>
  `${prefix}_${process.pid}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6)}`;
