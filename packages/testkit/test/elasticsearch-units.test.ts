import { describe, expect, it } from 'vitest';
import { assertLoopbackAddress } from '../src/elasticsearch/loopback.js';
import { negotiate } from '../src/elasticsearch/media-type.js';
import { NodeFaults } from '../src/elasticsearch/node-faults.js';
import { compileQuery, compileUriQuery } from '../src/elasticsearch/query.js';
import { findDuplicateWrites, type WriteLogEntry } from '../src/elasticsearch/write-log.js';

// The pure parts of the Elasticsearch test cluster, without processes.

const vnd = (v: number) => `application/vnd.elasticsearch+json; compatible-with=${v}`;
const reasonOf = (n: ReturnType<typeof negotiate>) =>
  n.ok
    ? 'ok'
    : ((n.response.body as { error: { caused_by?: { reason: string } } }).error.caused_by?.reason ?? '');

describe('compatibility header negotiation', () => {
  it('accepts the major and the one before, on Accept and Content-Type alike', () => {
    for (const v of [8, 9])
      expect(negotiate(vnd(v), vnd(v), true, 9)).toMatchObject({ ok: true, compatibleWith: v });
    expect(negotiate(vnd(7), vnd(7), true, 8)).toMatchObject({ ok: true, compatibleWith: 7 });
    expect(reasonOf(negotiate(vnd(9), vnd(9), true, 8))).toMatch(
      /^Accept version must be either version 8 or 7, but found 9/,
    );
    expect(reasonOf(negotiate(vnd(7), vnd(7), true, 9))).toMatch(
      /^Accept version must be either version 9 or 8/,
    );
  });

  it('without a body only Accept counts; with one, both must name the same version', () => {
    expect(negotiate(vnd(8), 'application/json', false, 9)).toMatchObject({ ok: true, compatibleWith: 8 });
    expect(reasonOf(negotiate(vnd(8), 'application/json', true, 9))).toMatch(
      /compatible version is required on both/,
    );
    expect(reasonOf(negotiate(vnd(8), vnd(9), true, 9))).toMatch(/must match/);
    expect(negotiate('application/json', 'application/x-ndjson', true, 9)).toMatchObject({
      ok: true,
      contentType: 'application/json',
    });
    expect(negotiate(vnd(9), 'application/vnd.elasticsearch+x-ndjson; compatible-with=9', true, 9).ok).toBe(
      true,
    );
    expect(negotiate(undefined, 'text/plain', true, 9)).toMatchObject({
      ok: false,
      response: { status: 406 },
    });
  });

  it('answers in the media type asked for', () => {
    expect(negotiate(`${vnd(9)},text/plain`, undefined, false, 9)).toMatchObject({
      contentType: 'application/vnd.elasticsearch+json;compatible-with=9',
    });
    expect(negotiate(undefined, undefined, false, 9)).toMatchObject({ contentType: 'application/json' });
  });
});

describe('publish addresses', () => {
  it('loopback only, in both forms', () => {
    for (const ok of [
      '127.0.0.1:9200',
      '127.9.9.9:1',
      '[::1]:9200',
      'localhost/127.0.0.1:9200',
      '127.0.0.1/127.0.0.2:5',
    ])
      expect(() => assertLoopbackAddress(ok)).not.toThrow();
    for (const bad of [
      '10.0.0.1:9200',
      '172.16.0.1:9200',
      '192.168.0.1:9200',
      '1.2.3.4:9200',
      '0.0.0.0:9200',
      'es.internal/127.0.0.1:9200',
      'localhost/10.0.0.1:9200',
      '127.0.0.1:0',
      '127.0.0.1:70000',
      '127.0.0.1',
      'http://127.0.0.1:9200',
    ])
      expect(() => assertLoopbackAddress(bad), bad).toThrow(RangeError);
  });
});

describe('fault rules', () => {
  const req = { method: 'GET', path: '/' };

  it('a request-count rule applies N times; a later outcome rule waits its turn; latency adds up', () => {
    const f = new NodeFaults();
    const first = f.unavailable({ requests: 1 });
    const second = f.tooManyRequests({ requests: 1, retryAfterSeconds: 3 });
    f.latency(10);
    f.latency(5, { requests: 1 });
    const d1 = f.decide(req);
    expect(d1).toMatchObject({ delayMs: 15, outcome: { status: 503 } });
    const d2 = f.decide(req);
    expect(d2).toMatchObject({ delayMs: 10, outcome: { status: 429, retryAfterSeconds: 3 } });
    expect(f.decide(req)).toMatchObject({ delayMs: 10, outcome: undefined });
    expect([first.hits, second.hits, first.active, second.active]).toEqual([1, 1, false, false]);
    f.clear();
    expect(f.decide(req)).toEqual({ delayMs: 0, outcome: undefined, bulkRejectItems: 0 });
  });

  it('match by method and path; bulk rejections only match _bulk', () => {
    const f = new NodeFaults();
    f.unavailable({ match: { method: 'post', path: /\/_doc$/ } });
    f.rejectBulkItems(2);
    expect(f.decide({ method: 'GET', path: '/i/_doc' }).outcome).toBeUndefined();
    expect(f.decide({ method: 'POST', path: '/i/_doc' }).outcome).toMatchObject({ status: 503 });
    expect(f.decide({ method: 'POST', path: '/i/_bulk' })).toMatchObject({
      outcome: undefined,
      bulkRejectItems: 2,
    });
    expect(f.decide({ method: 'POST', path: '/_search' }).bulkRejectItems).toBe(0);
  });

  it('a removed rule no longer applies; never-answer and reset keep their apply flags', () => {
    const f = new NodeFaults();
    const rule = f.neverAnswer();
    expect(f.decide(req).outcome).toEqual({ kind: 'never', apply: false });
    rule.remove();
    expect(f.active()).toEqual([]);
    f.resetMidResponse({ afterBytes: 3 });
    expect(f.decide(req).outcome).toEqual({ kind: 'reset', apply: true, afterBytes: 3 });
  });
});

describe('query subset', () => {
  const docs = [
    { id: '1', s: { tag: 'a', n: 1, text: 'Quick brown fox', nested: { k: 'x' }, list: ['p', 'q'] } },
    { id: '2', s: { tag: 'b', n: 2, text: 'lazy dog' } },
  ];
  const hits = (q: unknown) => {
    const c = compileQuery(q);
    if (!c.ok) throw new Error(c.reason);
    return docs.filter((d) => c.match(d.s, d.id)).map((d) => d.id);
  };

  it('term, terms, match, ids, exists, bool, dotted fields, arrays, .keyword', () => {
    expect(hits(undefined)).toEqual(['1', '2']);
    expect(hits({ term: { tag: 'a' } })).toEqual(['1']);
    expect(hits({ term: { 'tag.keyword': { value: 'b' } } })).toEqual(['2']);
    expect(hits({ term: { n: '2' } })).toEqual(['2']);
    expect(hits({ terms: { tag: ['a', 'b'] } })).toEqual(['1', '2']);
    expect(hits({ match: { text: 'QUICK' } })).toEqual(['1']);
    expect(hits({ ids: { values: ['2'] } })).toEqual(['2']);
    expect(hits({ exists: { field: 'nested.k' } })).toEqual(['1']);
    expect(hits({ term: { list: 'q' } })).toEqual(['1']);
    expect(hits({ bool: { should: [{ term: { tag: 'a' } }, { term: { n: 2 } }] } })).toEqual(['1', '2']);
    expect(hits({ bool: { must: [{ match_all: {} }], must_not: [{ term: { tag: 'a' } }] } })).toEqual(['2']);
    expect(compileQuery({ wildcard: { tag: 'a*' } })).toEqual({
      ok: false,
      reason: 'unknown query [wildcard]',
    });
  });

  it('URI q', () => {
    const uri = (q: string) =>
      docs
        .filter((d) =>
          (compileUriQuery(q) as { match: (s: unknown, id: string) => boolean }).match(d.s, d.id),
        )
        .map((d) => d.id);
    expect(uri('*')).toEqual(['1', '2']);
    expect(uri('tag:b')).toEqual(['2']);
    expect(uri('a')).toEqual(['1']);
  });
});

describe('duplicate writes', () => {
  const entry = (seq: number, id: string, source: unknown, action: WriteLogEntry['action'] = 'index') =>
    ({ seq, id, index: 'i', action, source }) as WriteLogEntry;

  it('groups by index and canonical source; deletes do not count', () => {
    const groups = findDuplicateWrites([
      entry(1, 'a', { op: 1, x: 2 }),
      entry(2, 'b', { x: 2, op: 1 }), // same source, other key order: a replayed POST
      entry(3, 'c', { op: 2 }),
      entry(4, 'c', undefined, 'delete'),
    ]);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.ids).toEqual(['a', 'b']);
    expect(groups[0]!.source).toBe('{"op":1,"x":2}');
  });
});
