import { describe, expect, it } from 'vitest';
import { bulkItemReplay, isIdempotentRequest, replayOf } from './idempotency.js';

describe('replayOf: judged per request', () => {
  it.each([
    ['GET', '/orders/_doc/1', 'idempotent'],
    ['HEAD', '/', 'idempotent'],
    ['POST', '/orders/_search', 'idempotent'],
    ['GET', '/orders/_count', 'idempotent'],
    ['POST', '/_mget', 'idempotent'],
    ['POST', '/_msearch', 'idempotent'],
    ['PUT', '/orders/_doc/1', 'idempotent'],
    ['POST', '/orders/_doc/1', 'idempotent'],
    ['DELETE', '/orders/_doc/1', 'idempotent'],
    ['PUT', '/orders', 'idempotent'],
    ['POST', '/orders/_doc', 'unsafe'],
    ['PUT', '/orders/_create/1', 'conditional'],
    ['POST', '/orders/_update/1', 'unsafe'],
    ['POST', '/_bulk', 'unsafe'],
    ['POST', '/orders/_update_by_query', 'unsafe'],
    ['POST', '/_reindex', 'unsafe'],
    ['POST', '/something/else', 'unsafe'],
  ] as const)('%s %s → %s', (method, path, replay) => {
    expect(replayOf(method, path)).toBe(replay);
  });

  it('if_seq_no and op_type=create make a write conditional', () => {
    expect(replayOf('PUT', '/orders/_doc/1', 'if_seq_no=3&if_primary_term=1')).toBe('conditional');
    expect(replayOf('PUT', '/orders/_doc/1', { op_type: 'create' })).toBe('conditional');
    expect(replayOf('POST', '/orders/_update/1', { if_seq_no: 3, if_primary_term: 1 })).toBe('conditional');
    expect(replayOf('PUT', '/orders/_doc/1?if_seq_no=1&if_primary_term=1')).toBe('conditional');
    expect(isIdempotentRequest('POST', '/orders/_doc')).toBe(false);
    expect(isIdempotentRequest('PUT', '/orders/_create/1')).toBe(true);
  });

  it('bulk items', () => {
    expect(bulkItemReplay('index', {})).toBe('unsafe');
    expect(bulkItemReplay('index', { _id: 'a' })).toBe('idempotent');
    expect(bulkItemReplay('index', { _id: 'a', if_seq_no: 1 })).toBe('conditional');
    expect(bulkItemReplay('create', { _id: 'a' })).toBe('conditional');
    expect(bulkItemReplay('delete', { _id: 'a' })).toBe('idempotent');
    expect(bulkItemReplay('update', { _id: 'a' })).toBe('unsafe');
  });
});

// The table pinned entry by entry from literal lists (no loop over the module's own sets).
describe('replayOf: every entry, literally', () => {
  it('POST to each read endpoint is idempotent (the method carries a body, not a change)', () => {
    expect(replayOf('POST', '/orders/_search')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_count')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_mget')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_msearch')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_explain/1')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_field_caps')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_termvectors/1')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_mtermvectors')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_validate/query')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_search_shards')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_rank_eval')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_knn_search')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_terms_enum')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_async_search')).toBe('idempotent');
    expect(replayOf('POST', '/_sql')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_eql/search')).toBe('idempotent');
    expect(replayOf('POST', '/_cat/indices')).toBe('idempotent');
    expect(replayOf('POST', '/_cluster/health')).toBe('idempotent');
    expect(replayOf('POST', '/_nodes/stats')).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_mapping')).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_mappings')).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_settings')).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_alias/current')).toBe('idempotent');
    expect(replayOf('POST', '/_aliases')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_stats')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_segments')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_recovery')).toBe('idempotent');
    expect(replayOf('POST', '/_resolve/index/orders')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_refresh')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_flush')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_forcemerge')).toBe('idempotent');
    expect(replayOf('POST', '/orders/_cache/clear')).toBe('idempotent');
  });

  it('changes by a delta or a script, and anything not listed, are unsafe', () => {
    expect(replayOf('POST', '/orders/_update_by_query')).toBe('unsafe');
    expect(replayOf('POST', '/orders/_delete_by_query')).toBe('unsafe');
    expect(replayOf('POST', '/_reindex')).toBe('unsafe');
    expect(replayOf('POST', '/orders/_bulk')).toBe('unsafe');
    expect(replayOf('POST', '/orders/_rollover')).toBe('unsafe');
    // Even with a condition in the query string: it guards no document of theirs.
    expect(replayOf('POST', '/orders/_update_by_query', { if_seq_no: 1, op_type: 'create' })).toBe('unsafe');
    expect(replayOf('DELETE', '/_all')).toBe('unsafe');
    expect(replayOf('POST', '/orders')).toBe('unsafe');
    expect(replayOf('PUT', '/orders/other')).toBe('unsafe');
  });

  it('PUT and DELETE of an index are idempotent', () => {
    expect(replayOf('put', '/orders')).toBe('idempotent');
    expect(replayOf('DELETE', '/orders')).toBe('idempotent');
  });

  it('_doc: with an id by PUT, POST or DELETE idempotent (conditional with a condition), without one unsafe', () => {
    expect(replayOf('PUT', '/orders/_doc/1', { refresh: 'true' })).toBe('idempotent');
    expect(replayOf('DELETE', '/orders/_doc/1', 'if_seq_no=4&if_primary_term=1')).toBe('conditional');
    expect(replayOf('POST', '/orders/_doc/1', '?op_type=create')).toBe('conditional');
    expect(replayOf('PATCH', '/orders/_doc/1')).toBe('unsafe');
    expect(replayOf('POST', '/orders/_doc', { op_type: 'create' })).toBe('unsafe');
    expect(replayOf('POST', '/_doc')).toBe('unsafe');
    expect(replayOf('POST', '/orders/_doc?refresh=true')).toBe('unsafe');
  });

  it('a condition is a present if_seq_no or op_type=create; absent values and other op_types are none', () => {
    expect(replayOf('PUT', '/orders/_doc/1', { if_seq_no: undefined, op_type: null })).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_doc/1', { if_seq_no: null })).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_doc/1', { op_type: 'index' })).toBe('idempotent');
    expect(replayOf('PUT', '/orders/_doc/1', new URLSearchParams({ if_seq_no: '2' }))).toBe('conditional');
    expect(replayOf('POST', '/orders/_update/1', 'if_seq_no=2&if_primary_term=1')).toBe('conditional');
    expect(replayOf('POST', '/orders/_update/1', 'refresh=true')).toBe('unsafe');
  });

  it('bulk items: every combination', () => {
    expect(bulkItemReplay('index', { _id: null })).toBe('unsafe');
    expect(bulkItemReplay('index', { if_seq_no: 1 })).toBe('unsafe');
    expect(bulkItemReplay('create', {})).toBe('conditional');
    expect(bulkItemReplay('delete', { _id: 'a', if_seq_no: 1 })).toBe('conditional');
    expect(bulkItemReplay('update', { _id: 'a', if_seq_no: 1 })).toBe('conditional');
    expect(bulkItemReplay('update', { _id: 'a', if_seq_no: 0 })).toBe('conditional');
  });
});
