import type { DbTelemetry } from '@reconnect/core';
import { Redis } from 'ioredis';
import type { RedisClient } from './client.js';
import type { RedisDriverOptions } from './options.js';

/**
 * What spans and metrics say of a Redis target (OpenTelemetry's Redis conventions): `db.namespace` is the
 * database index the connection was opened with (a `SELECT` later is not followed); `server.*` the configured
 * host and port of a single server; `network.peer.*` the socket's peer once connected (a Sentinel target's
 * master too). A Cluster has no one server: its spans name none.
 */
export function redisTelemetry(options: RedisDriverOptions, client?: RedisClient): DbTelemetry {
  if (options.cluster !== undefined) return {};
  const out: DbTelemetry = {};
  let db = options.db;
  if (options.sentinels === undefined) {
    let host = options.host ?? '127.0.0.1';
    let port = options.port ?? 6379;
    if (options.url !== undefined) {
      const u = new URL(options.url);
      if (u.hostname !== '') host = u.hostname.replace(/^\[(.*)\]$/, '$1');
      if (u.port !== '') port = Number(u.port);
      const path = u.pathname.replace(/^\//, '');
      if (db === undefined && /^\d+$/.test(path)) db = Number(path);
    }
    out.serverAddress = host;
    out.serverPort = port;
  }
  out.namespace = String(db ?? 0);
  if (client instanceof Redis) {
    const stream = (client as { stream?: { remoteAddress?: string; remotePort?: number } }).stream;
    if (stream?.remoteAddress !== undefined) {
      out.peerAddress = stream.remoteAddress;
      if (stream.remotePort !== undefined) out.peerPort = stream.remotePort;
    }
  }
  return out;
}
