import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { AttemptEndedError } from '@reconnect/core';
import { classifyElasticsearchError, retryAfterMs } from './classify.js';
import { ClusterRedError, ElasticsearchDriverError } from './errors.js';

const redaction = { redaction: { type: 'replace' as const, additionalKeys: [] } };

const response = (statusCode: number, type?: string, headers: Record<string, string> = {}) =>
  new errors.ResponseError({
    body: type === undefined ? {} : { error: { type, reason: 'r' }, status: statusCode },
    statusCode,
    headers,
    warnings: null,
    meta: {} as never,
  });

/** An answer with any body (a proxy's HTML page, an empty string). */
const answer = (statusCode: number, body: unknown, headers: Record<string, string | string[]> = {}) =>
  new errors.ResponseError({ body, statusCode, headers, warnings: null, meta: {} as never });
const esHeader = { 'x-elastic-product': 'Elasticsearch' };
const nginxPage = (title: string) =>
  `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
const html = { 'content-type': 'text/html', server: 'nginx' };

describe('classifyElasticsearchError (the README table)', () => {
  it('ConnectionError by the code of its cause: refused, DNS and connect timeout were never sent; a closed or reset socket may have been', () => {
    // As the driver's connection rethrows it, and elastic-transport wraps it once more.
    const failed = (cause: object) =>
      classifyElasticsearchError(
        new errors.ConnectionError('outer', undefined, {
          ...redaction,
          cause: new errors.ConnectionError('inner', undefined, { ...redaction, cause }),
        }),
      );
    const nodeError = (code: string, syscall: string) => Object.assign(new Error(code), { code, syscall });
    expect(failed(nodeError('ECONNREFUSED', 'connect'))).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(failed(nodeError('ENOTFOUND', 'getaddrinfo'))).toEqual({
      kind: 'connection',
      code: 'ENOTFOUND',
      sent: false,
    });
    expect(failed({ name: 'ConnectTimeoutError', code: 'UND_ERR_CONNECT_TIMEOUT' })).toEqual({
      kind: 'connection',
      code: 'CONNECT_TIMEOUT',
      sent: false,
    });
    expect(failed({ name: 'ClientClosedError', code: 'UND_ERR_CLOSED' })).toEqual({
      kind: 'connection',
      code: 'CLIENT_CLOSED',
      sent: false,
    });
    expect(failed({ name: 'SocketError', code: 'UND_ERR_SOCKET' })).toEqual({
      kind: 'connection',
      code: 'SOCKET_CLOSED',
    });
    expect(failed(nodeError('ECONNRESET', 'read'))).toEqual({ kind: 'connection', code: 'ECONNRESET' });
    expect(failed({ name: 'BodyTimeoutError', code: 'UND_ERR_BODY_TIMEOUT' })).toEqual({
      kind: 'timeout',
      code: 'REQUEST_TIMEOUT',
    });
    expect(failed(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    // Never by the message: without a cause to read, it may have been sent, whatever the text says.
    for (const message of ['connect ECONNREFUSED 127.0.0.1:9200', 'Attempt timed out after 500 ms'])
      expect(classifyElasticsearchError(new errors.ConnectionError(message))).toEqual({
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
    // Elasticsearch's own 502/503/504 (its header) of a type not known to refuse before running, or without a
    // body (a HEAD's answer): the node answered; not proven unsent.
    expect(classifyElasticsearchError(response(503, 'some_other_exception', esHeader))).toEqual({
      kind: 'transient',
      code: 'some_other_exception',
      statusCode: 503,
    });
    expect(classifyElasticsearchError(answer(504, '', esHeader))).toEqual({
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

  it("a 502/503/504 a proxy answered itself (no Elasticsearch error body, no x-elastic-product): the node is unreachable — connection (502, 503) or timeout (504), 'sent' unknown", () => {
    // Literal: no `sent` key, so a proxy's answer never claims the request was not sent (it may have been forwarded).
    const gone = (status: number) => ({
      kind: 'connection',
      code: status,
      statusCode: status,
      message: `A proxy in front of the node answered ${status} (it could not reach its Elasticsearch); the request may have reached it`,
    });
    const late = {
      kind: 'timeout',
      code: 504,
      statusCode: 504,
      message:
        'A proxy in front of the node answered 504 (its Elasticsearch did not answer in time); the request may have run',
    };
    expect(classifyElasticsearchError(answer(502, nginxPage('502 Bad Gateway'), html))).toEqual(gone(502));
    expect(
      classifyElasticsearchError(answer(503, nginxPage('503 Service Temporarily Unavailable'), html)),
    ).toEqual(gone(503));
    expect(classifyElasticsearchError(answer(504, nginxPage('504 Gateway Time-out'), html))).toEqual(late);
    // Other proxies' pages: Envoy's plain text, a JSON body that is not Elasticsearch's, no body, no headers.
    expect(
      classifyElasticsearchError(answer(503, 'no healthy upstream', { 'content-type': 'text/plain' })),
    ).toEqual(gone(503));
    expect(classifyElasticsearchError(answer(503, { message: 'Service Unavailable' }))).toEqual(gone(503));
    expect(classifyElasticsearchError(answer(502, ''))).toEqual(gone(502));
    expect(classifyElasticsearchError(answer(504, {}))).toEqual(late);
    expect(classifyElasticsearchError(answer(503, undefined, null as never))).toEqual(gone(503));
    // Elasticsearch's header (a plain value or undici's list) says the node itself answered: not a proxy's.
    expect(classifyElasticsearchError(answer(503, nginxPage('503'), esHeader))).toEqual({
      kind: 'transient',
      code: 503,
      statusCode: 503,
    });
    expect(classifyElasticsearchError(answer(503, '', { 'x-elastic-product': ['Elasticsearch'] }))).toEqual({
      kind: 'transient',
      code: 503,
      statusCode: 503,
    });
    // An Elasticsearch error body without the header (a proxy passing the body on, not the header) is still
    // Elasticsearch's answer: its own refusals stay unsent.
    expect(classifyElasticsearchError(response(503, 'unavailable_shards_exception'))).toEqual({
      kind: 'transient',
      code: 'unavailable_shards_exception',
      statusCode: 503,
      sent: false,
    });
    // Only the gateway statuses: a proxy's 500 or 429 page is not about an unreachable upstream.
    expect(classifyElasticsearchError(answer(500, nginxPage('500 Internal Server Error'), html))).toEqual({
      kind: 'fatal',
      code: 500,
      statusCode: 500,
    });
    expect(classifyElasticsearchError(answer(429, nginxPage('429 Too Many Requests'), html))).toEqual({
      kind: 'throttled',
      code: 429,
      statusCode: 429,
      sent: false,
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
    // The size limit, as the driver's connection rethrows it: by its cause's code, not the message.
    const tooLarge = new ElasticsearchDriverError('RESPONSE_TOO_LARGE', 'too large', {
      kind: 'fatal',
      code: 'RESPONSE_TOO_LARGE',
    });
    const message = 'The content length (9) is bigger than the maximum allowed string (1)';
    expect(
      classifyElasticsearchError(
        new errors.RequestAbortedError(message, undefined, { ...redaction, cause: tooLarge }),
      ),
    ).toEqual({ kind: 'fatal', code: 'RESPONSE_TOO_LARGE' });
    expect(classifyElasticsearchError(new errors.RequestAbortedError(message))).toEqual({
      kind: 'timeout',
      code: 'ABORTED',
    });
    // The driver's own errors and core's, by code.
    expect(classifyElasticsearchError(new ClusterRedError('http://es1:9200'))).toEqual({
      kind: 'transient',
      code: 'CLUSTER_RED',
      sent: false,
    });
    expect(classifyElasticsearchError(new AttemptEndedError({ target: 'search' }))).toEqual({
      kind: 'timeout',
      code: 'ERR_ATTEMPT_ENDED',
      sent: false,
    });
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

  it('server pushback: Retry-After (seconds or an HTTP date) on 429 and 503 is retryAfterMs; none without it', () => {
    const inTwoSeconds = new Date(Date.now() + 2000).toUTCString();
    const hinted = (statusCode: number, type: string | undefined, retryAfter: string) =>
      classifyElasticsearchError(response(statusCode, type, { ...esHeader, 'retry-after': retryAfter }));
    expect(hinted(429, 'es_rejected_execution_exception', '3')).toEqual({
      kind: 'throttled',
      code: 'es_rejected_execution_exception',
      statusCode: 429,
      sent: false,
      retryAfterMs: 3000,
    });
    const dated = hinted(429, 'es_rejected_execution_exception', inTwoSeconds).retryAfterMs;
    expect(dated).toBeGreaterThan(0);
    expect(dated).toBeLessThanOrEqual(2000);
    expect(hinted(503, 'unavailable_shards_exception', '4')).toEqual({
      kind: 'transient',
      code: 'unavailable_shards_exception',
      statusCode: 503,
      sent: false,
      retryAfterMs: 4000,
    });
    const datedShards = hinted(503, 'unavailable_shards_exception', inTwoSeconds).retryAfterMs;
    expect(datedShards).toBeGreaterThan(0);
    expect(datedShards).toBeLessThanOrEqual(2000);
    // A load balancer's own 503 with Retry-After (maintenance): the hint is kept.
    expect(
      classifyElasticsearchError(
        answer(503, nginxPage('503 Service Temporarily Unavailable'), { ...html, 'retry-after': '5' }),
      ),
    ).toMatchObject({ kind: 'connection', code: 503, statusCode: 503, retryAfterMs: 5000 });
    // Without the header there is no hint: the policy's backoff (with its jitter) decides the wait.
    expect(classifyElasticsearchError(response(429, 'es_rejected_execution_exception'))).not.toHaveProperty(
      'retryAfterMs',
    );
  });

  it('circuit_breaking_exception: PERMANENT is fatal (not retried), TRANSIENT stays throttled', () => {
    const breaker = (durability: string, headers: Record<string, string> = {}) => {
      const cause = {
        type: 'circuit_breaking_exception',
        reason:
          '[request] Data too large, data for [<reused_arrays>] would be [1073741824/1gb], which is larger than the limit of [644245094/614.3mb]',
        bytes_wanted: 1073741824,
        bytes_limit: 644245094,
        durability,
      };
      return answer(
        429,
        { error: { root_cause: [cause], ...cause }, status: 429 },
        { ...esHeader, ...headers },
      );
    };
    const permanent = classifyElasticsearchError(breaker('PERMANENT', { 'retry-after': '1' }));
    expect({ kind: permanent.kind, sent: permanent.sent, code: permanent.code }).toEqual({
      kind: 'fatal',
      sent: false,
      code: 'circuit_breaking_exception',
    });
    expect(permanent).toMatchObject({ statusCode: 429 });
    expect(permanent).not.toHaveProperty('retryAfterMs');
    expect(permanent.message).toMatch(/PERMANENT/);
    expect(classifyElasticsearchError(breaker('TRANSIENT'))).toEqual({
      kind: 'throttled',
      code: 'circuit_breaking_exception',
      statusCode: 429,
      sent: false,
    });
    // Wrapped: a search phase failure whose cause is a permanent breaker.
    const wrapped = answer(
      429,
      {
        error: {
          type: 'search_phase_execution_exception',
          reason: 'all shards failed',
          caused_by: { type: 'circuit_breaking_exception', reason: 'too large', durability: 'PERMANENT' },
        },
        status: 429,
      },
      esHeader,
    );
    expect(classifyElasticsearchError(wrapped)).toMatchObject({
      kind: 'fatal',
      code: 'search_phase_execution_exception',
      sent: false,
    });
  });
});
