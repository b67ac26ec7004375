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
