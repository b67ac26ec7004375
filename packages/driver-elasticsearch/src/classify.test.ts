import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { classifyConnectionMessage, classifyElasticsearchError, retryAfterMs } from './classify.js';

const response = (statusCode: number, type?: string, headers: Record<string, string> = {}) =>
  new errors.ResponseError({
    body: type === undefined ? {} : { error: { type, reason: 'r' }, status: statusCode },
    statusCode,
    headers,
    warnings: null,
    meta: {} as never,
  });

describe('classifyElasticsearchError (the README table)', () => {
  it('ConnectionError: refused, DNS and connect timeout were never sent; a closed or reset socket may have been', () => {
    const c = (m: string) => classifyElasticsearchError(new errors.ConnectionError(m));
    expect(c('connect ECONNREFUSED 127.0.0.1:9200')).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(c('getaddrinfo ENOTFOUND es.invalid')).toEqual({
      kind: 'connection',
      code: 'ENOTFOUND',
      sent: false,
    });
    expect(c('Connect Timeout Error (attempted address: 10.0.0.1:9200, timeout: 10000ms)')).toEqual({
      kind: 'connection',
      code: 'CONNECT_TIMEOUT',
      sent: false,
    });
    expect(c('other side closed - Local: 127.0.0.1:5000, Remote: 127.0.0.1:9200')).toEqual({
      kind: 'connection',
      code: 'SOCKET_CLOSED',
    });
    expect(c('read ECONNRESET')).toEqual({ kind: 'connection', code: 'ECONNRESET' });
    expect(c('something else')).toEqual({ kind: 'connection', code: 'CONNECTION_ERROR' });
    // The request's signal fired: undici rejects with the reason, the transport keeps only its message.
    expect(c('Attempt timed out after 500 ms')).toEqual({ kind: 'timeout', code: 'ABORTED' });
    expect(c('This operation was aborted')).toEqual({ kind: 'timeout', code: 'ABORTED' });
    expect(classifyConnectionMessage('write ECONNABORTED')).toEqual({
      kind: 'connection',
      code: 'CONNECTION_ERROR',
    });
  });

  it('ResponseError by status and error.type', () => {
    expect(
      classifyElasticsearchError(response(429, 'es_rejected_execution_exception', { 'retry-after': '7' })),
    ).toEqual({
      kind: 'throttled',
      code: 'es_rejected_execution_exception',
      statusCode: 429,
      sent: false,
      retryAfterMs: 7000,
    });
    expect(classifyElasticsearchError(response(429, 'circuit_breaking_exception'))).toMatchObject({
      kind: 'throttled',
      sent: false,
    });
    expect(classifyElasticsearchError(response(503, 'unavailable_shards_exception'))).toEqual({
      kind: 'transient',
      code: 'unavailable_shards_exception',
      statusCode: 503,
      sent: false,
    });
    // A proxy's 502/504 may have forwarded the request: not proven unsent.
    expect(classifyElasticsearchError(response(504))).toEqual({
      kind: 'transient',
      code: 504,
      statusCode: 504,
    });
    expect(classifyElasticsearchError(response(401, 'security_exception'))).toMatchObject({
      kind: 'auth',
      sent: false,
    });
    expect(classifyElasticsearchError(response(403, 'security_exception'))).toMatchObject({ kind: 'auth' });
    expect(classifyElasticsearchError(response(403, 'cluster_block_exception'))).toMatchObject({
      kind: 'transient',
    });
    expect(classifyElasticsearchError(response(409, 'version_conflict_engine_exception'))).toEqual({
      kind: 'fatal',
      code: 'version_conflict_engine_exception',
      statusCode: 409,
    });
    expect(classifyElasticsearchError(response(404, 'index_not_found_exception'))).toMatchObject({
      kind: 'fatal',
    });
    expect(classifyElasticsearchError(response(400, 'media_type_header_exception'))).toMatchObject({
      kind: 'fatal',
      message: expect.stringMatching(/compatibility: 8/),
    });
  });

  it('the other client errors', () => {
    expect(classifyElasticsearchError(new errors.TimeoutError('Request timed out'))).toEqual({
      kind: 'timeout',
      code: 'REQUEST_TIMEOUT',
    });
    expect(classifyElasticsearchError(new errors.RequestAbortedError('Request aborted'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    expect(
      classifyElasticsearchError(
        new errors.RequestAbortedError(
          'The content length (9) is bigger than the maximum allowed string (1)',
        ),
      ),
    ).toEqual({ kind: 'fatal', code: 'RESPONSE_TOO_LARGE' });
    expect(classifyElasticsearchError(new errors.NoLivingConnectionsError('none', {} as never))).toEqual({
      kind: 'connection',
      code: 'NO_LIVING_CONNECTIONS',
      sent: false,
    });
    expect(
      classifyElasticsearchError(new errors.ProductNotSupportedError('Elasticsearch', {} as never)),
    ).toMatchObject({
      kind: 'fatal',
      code: 'PRODUCT_NOT_SUPPORTED',
    });
    expect(classifyElasticsearchError(new DOMException('x', 'AbortError'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    expect(classifyElasticsearchError(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toMatchObject(
      {
        sent: false,
      },
    );
    expect(classifyElasticsearchError('nope')).toEqual({ kind: 'unknown' });
  });

  it('Retry-After: seconds or an HTTP date', () => {
    expect(retryAfterMs('2')).toBe(2000);
    expect(retryAfterMs(['1.5'])).toBe(1500);
    expect(retryAfterMs(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(retryAfterMs('soon')).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });
});
