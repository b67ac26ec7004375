import type { Target } from '@reconnect/core';
import { describe, expect, it } from 'vitest';
import { parseBulkOperations } from './bulk.js';
import { clientIdsOf, rawCreateOf } from './client-ids.js';
import { createElasticsearchClient, type ElasticsearchClient } from './client.js';
import { elasticsearchOptionsSchema } from './options.js';
import { resolvePolicy } from '@reconnect/core';

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('client ids (the clientIds option)', () => {
  it('rawCreateOf: POST /{index}/_doc becomes PUT /{index}/_create/{new id}, the query string kept; nothing else', () => {
    const made = rawCreateOf('post', '/orders/_doc?refresh=true');
    expect(made).toEqual({
      method: 'PUT',
      path: `/orders/_create/${made?.id}?refresh=true`,
      index: 'orders',
      id: expect.stringMatching(uuid) as unknown,
    });
    expect(rawCreateOf('POST', 'orders/_doc/')).toMatchObject({
      index: 'orders',
      path: expect.stringMatching(/^\/orders\/_create\//) as unknown,
    });
    expect(rawCreateOf('POST', '/orders/_doc')?.id).not.toBe(rawCreateOf('POST', '/orders/_doc')?.id);
    expect(rawCreateOf('PUT', '/orders/_doc')).toBeUndefined();
    expect(rawCreateOf('POST', '/orders/_doc/1')).toBeUndefined();
    expect(rawCreateOf('POST', '/_doc')).toBeUndefined();
    expect(rawCreateOf('POST', '/orders/_bulk')).toBeUndefined();
  });

  it('bulk: with clientIds an index without _id gets one and is sent as create (its result keeps index); the rest untouched', () => {
    const operations = [
      { index: { _index: 'a' } },
      { n: 1 },
      { index: { _index: 'a', _id: null } },
      { n: 2 },
      { index: { _index: 'a', _id: 'mine' } },
      { n: 3 },
      { create: { _index: 'a' } },
      { n: 4 },
      { delete: { _index: 'a', _id: 'x' } },
    ];
    const items = parseBulkOperations(operations, undefined, { clientIds: true });
    expect(items.map((i) => [i.action, i.result.action, i.replay])).toEqual([
      ['create', 'index', 'conditional'],
      ['create', 'index', 'conditional'],
      ['index', 'index', 'idempotent'],
      ['create', 'create', 'conditional'],
      ['delete', 'delete', 'idempotent'],
    ]);
    expect(items[0]!.meta).toEqual({ _index: 'a', _id: items[0]!.result.id });
    expect(items[0]!.result.id).toMatch(uuid);
    expect(items[1]!.result.id).toMatch(uuid);
    expect(items[1]!.result.id).not.toBe(items[0]!.result.id);
    // The caller's action line is not changed.
    expect(operations[0]).toEqual({ index: { _index: 'a' } });
    expect(items[2]!.meta).toBe(operations[4]!.index);
    // Without it (the default), nothing changes.
    expect(parseBulkOperations(operations).map((i) => [i.action, i.replay, i.result.id])).toEqual([
      ['index', 'unsafe', undefined],
      ['index', 'unsafe', undefined],
      ['index', 'idempotent', 'mine'],
      ['create', 'conditional', undefined],
      ['delete', 'idempotent', 'x'],
    ]);
  });

  it('clientIdsOf: the setting of the target’s clients; the last one seen while it has none; false before any', () => {
    const client = (clientIds: boolean | undefined) =>
      createElasticsearchClient(
        elasticsearchOptionsSchema.parse({
          node: 'http://127.0.0.1:9',
          ...(clientIds === undefined ? {} : { clientIds }),
        }),
        { policy: resolvePolicy({}), node: { id: 'n', host: '127.0.0.1', port: 9 }, target: 't' },
      );
    let current: ElasticsearchClient | undefined;
    const target = {
      get client() {
        if (current === undefined) throw new Error('not connected');
        return current;
      },
    } as unknown as Target<ElasticsearchClient>;
    expect(clientIdsOf(target)).toBe(false);
    current = client(true);
    expect(clientIdsOf(target)).toBe(true);
    current = undefined;
    expect(clientIdsOf(target)).toBe(true);
    current = client(undefined);
    expect(clientIdsOf(target)).toBe(false);
  });
});
