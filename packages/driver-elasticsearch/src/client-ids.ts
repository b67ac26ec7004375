// Client-made ids for auto-id writes (the `clientIds` option, issue #27). A write whose id the cluster makes
// (`POST /{index}/_doc`, a bulk `index` without `_id`) is a new document at every replay, so after a lost answer it
// may not be retried and ends `outcome: unknown`. Given an id of the caller's side, made once per call before its
// first attempt, and sent as `create`, its replay is refused with 409 `version_conflict_engine_exception` when the
// first attempt landed — which the request helpers report as applied. Such a write is then safe to retry.
import { randomUUID } from 'node:crypto';
import type { Target } from '@reconnect/core';
import { stateOf, type ElasticsearchClient } from './client.js';

/** The last `clientIds` setting seen per target: the target's clients carry it, and a target may have none a while. */
const lastSeen = new WeakMap<Target<ElasticsearchClient>, boolean>();

/**
 * Whether `target`'s options say `clientIds: true`, read from its clients (the setting lives in the options, which
 * the driver keeps beside each client it made). While the target has no client (all nodes down), the setting last
 * read; before its first connect, false — such a call is sent the old way: not replayed, never duplicated.
 */
export function clientIdsOf(target: Target<ElasticsearchClient>): boolean {
  let client: ElasticsearchClient;
  try {
    client = target.client;
  } catch {
    return lastSeen.get(target) ?? false;
  }
  const on = stateOf(client)?.clientIds ?? false;
  lastSeen.set(target, on);
  return on;
}

/** A new document id: a random UUID (36 characters; Elasticsearch takes up to 512 bytes). */
export function newDocumentId(): string {
  return randomUUID();
}

/**
 * `POST /{index}/_doc` (an auto-id write through `request()`) as `PUT /{index}/_create/{id}` with a new id; any
 * other request unchanged (undefined).
 */
export function rawCreateOf(
  method: string,
  path: string,
): { method: 'PUT'; path: string; index: string; id: string } | undefined {
  if (method.toUpperCase() !== 'POST') return undefined;
  const [pathname = '', query] = path.split('?', 2);
  const match = /^\/?([^/_][^/]*)\/_doc\/?$/.exec(pathname);
  if (match === null) return undefined;
  const index = match[1]!;
  const id = newDocumentId();
  const created = `/${index}/_create/${id}`;
  return { method: 'PUT', path: query === undefined ? created : `${created}?${query}`, index, id };
}
