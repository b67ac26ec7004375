import { errors } from '@elastic/elasticsearch';
import { describe, expect, it } from 'vitest';
import { AttemptEndedError } from '@reconnect/core';
import { classifyElasticsearchError, classifyResponse, errorType, retryAfterMs } from './classify.js';
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

// Each rule pinned with its literal `{ kind, code, statusCode, sent }` (no loop over the table itself): the rows the
// tests above check by example, and the guards around them (odd answers must not change a verdict).
describe('classifyElasticsearchError: every rule, literally', () => {
  const connection = (cause: unknown) =>
    classifyElasticsearchError(new errors.ConnectionError('outer', undefined, { ...redaction, cause }));

  it("Elasticsearch's own refusals before running anything (503): each type of notAppliedErrorTypes is not sent", () => {
    const refused = (type: string) => ({ kind: 'transient', code: type, statusCode: 503, sent: false });
    expect(classifyElasticsearchError(response(503, 'unavailable_shards_exception'))).toEqual(
      refused('unavailable_shards_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'master_not_discovered_exception'))).toEqual(
      refused('master_not_discovered_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'cluster_block_exception'))).toEqual(
      refused('cluster_block_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'no_shard_available_action_exception'))).toEqual(
      refused('no_shard_available_action_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'node_not_connected_exception'))).toEqual(
      refused('node_not_connected_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'node_closed_exception'))).toEqual(
      refused('node_closed_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'circuit_breaking_exception'))).toEqual(
      refused('circuit_breaking_exception'),
    );
    expect(classifyElasticsearchError(response(503, 'es_rejected_execution_exception'))).toEqual(
      refused('es_rejected_execution_exception'),
    );
    // 502 and 504 with such a type likewise; a type not listed, or none, is not proven unsent.
    expect(classifyElasticsearchError(response(502, 'node_closed_exception', esHeader))).toEqual({
      kind: 'transient',
      code: 'node_closed_exception',
      statusCode: 502,
      sent: false,
    });
    expect(classifyElasticsearchError(response(504, 'some_other_exception', esHeader))).toEqual({
      kind: 'transient',
      code: 'some_other_exception',
      statusCode: 504,
    });
  });

  it('500 with a type that refuses before running is transient and not sent; any other 500 is fatal, sent unknown', () => {
    expect(classifyElasticsearchError(response(500, 'node_closed_exception'))).toEqual({
      kind: 'transient',
      code: 'node_closed_exception',
      statusCode: 500,
      sent: false,
    });
    expect(classifyElasticsearchError(response(500, 'null_pointer_exception'))).toEqual({
      kind: 'fatal',
      code: 'null_pointer_exception',
      statusCode: 500,
    });
    expect(classifyElasticsearchError(answer(500, {}, esHeader))).toEqual({
      kind: 'fatal',
      code: 500,
      statusCode: 500,
    });
    // The type alone is not the rule: such a type on a 404 or a 400 is the status's.
    expect(classifyElasticsearchError(response(404, 'node_closed_exception'))).toEqual({
      kind: 'fatal',
      code: 'node_closed_exception',
      statusCode: 404,
    });
  });

  it('401 and 403 are auth, not sent; a 403 cluster_block_exception is transient, not sent', () => {
    expect(classifyElasticsearchError(response(401, 'security_exception'))).toEqual({
      kind: 'auth',
      code: 'security_exception',
      statusCode: 401,
      sent: false,
    });
    expect(classifyElasticsearchError(response(403, 'security_exception'))).toEqual({
      kind: 'auth',
      code: 'security_exception',
      statusCode: 403,
      sent: false,
    });
    expect(classifyElasticsearchError(response(403, 'cluster_block_exception'))).toEqual({
      kind: 'transient',
      code: 'cluster_block_exception',
      statusCode: 403,
      sent: false,
    });
    expect(classifyElasticsearchError(response(401, 'cluster_block_exception'))).toEqual({
      kind: 'transient',
      code: 'cluster_block_exception',
      statusCode: 401,
      sent: false,
    });
  });

  it('408 is a timeout, sent unknown', () => {
    expect(classifyElasticsearchError(response(408, 'timeout_exception'))).toEqual({
      kind: 'timeout',
      code: 'timeout_exception',
      statusCode: 408,
    });
    expect(classifyElasticsearchError(answer(408, ''))).toEqual({
      kind: 'timeout',
      code: 408,
      statusCode: 408,
    });
  });

  it('400 media_type_header_exception is fatal, not sent, with the fix in its message; only that type, only on 400', () => {
    expect(classifyElasticsearchError(response(400, 'media_type_header_exception'))).toEqual({
      kind: 'fatal',
      code: 'media_type_header_exception',
      statusCode: 400,
      sent: false,
      message:
        'The server refused the compatible-with header: it is an older major version; set the option compatibility: 8',
    });
    expect(classifyElasticsearchError(response(400, 'illegal_argument_exception'))).toEqual({
      kind: 'fatal',
      code: 'illegal_argument_exception',
      statusCode: 400,
    });
    expect(classifyElasticsearchError(response(406, 'media_type_header_exception'))).toEqual({
      kind: 'fatal',
      code: 'media_type_header_exception',
      statusCode: 406,
    });
  });

  it('Retry-After is read on 429 and 503 only', () => {
    const wait = { 'retry-after': '5' };
    expect(
      classifyElasticsearchError(answer(502, nginxPage('502 Bad Gateway'), { ...html, ...wait })),
    ).toEqual({
      kind: 'connection',
      code: 502,
      statusCode: 502,
      message:
        'A proxy in front of the node answered 502 (it could not reach its Elasticsearch); the request may have reached it',
    });
    expect(classifyElasticsearchError(response(504, 'unavailable_shards_exception', wait))).toEqual({
      kind: 'transient',
      code: 'unavailable_shards_exception',
      statusCode: 504,
      sent: false,
    });
  });

  it('a ResponseError without a numeric status is unknown; the status is the answer’s, not its body’s', () => {
    const odd = (meta: unknown) =>
      classifyElasticsearchError(Object.assign(new Error('x'), { name: 'ResponseError', meta }));
    expect(odd(undefined)).toEqual({ kind: 'unknown' });
    expect(odd(null)).toEqual({ kind: 'unknown' });
    expect(odd({ statusCode: '503', body: { error: { type: 'unavailable_shards_exception' } } })).toEqual({
      kind: 'unknown',
    });
    // A proxy's JSON page that says `status: 200` is still a 502.
    expect(classifyElasticsearchError(answer(502, { status: 200, message: 'upstream gone' }))).toMatchObject({
      kind: 'connection',
      code: 502,
      statusCode: 502,
    });
  });

  it('a circuit_breaking_exception is PERMANENT only by its type and durability, found within bounds', () => {
    // classifyResponse directly: the client's ResponseError cannot even be built around some of these bodies.
    const at429 = (error: unknown) => classifyResponse(429, { error, status: 429 }, esHeader);
    const throttled = (code: unknown) => ({ kind: 'throttled', code, statusCode: 429, sent: false });
    const fatal = (code: string) => ({
      kind: 'fatal',
      code,
      statusCode: 429,
      sent: false,
      message:
        'Elasticsearch refused the request with a PERMANENT circuit_breaking_exception: the request alone exceeds a memory limit, so it is not retried',
    });
    const breaker = { type: 'circuit_breaking_exception', durability: 'PERMANENT' };
    expect(at429(breaker)).toEqual(fatal('circuit_breaking_exception'));
    // Another type that says PERMANENT is not a breaker.
    expect(at429({ type: 'other_exception', durability: 'PERMANENT' })).toEqual(throttled('other_exception'));
    // Only in a root cause: the roots are read, and any one of them is enough; at most ten of them.
    const other = { type: 'x_exception' };
    expect(at429({ type: 'x_exception', root_cause: [breaker] })).toEqual(fatal('x_exception'));
    expect(at429({ type: 'x_exception', root_cause: [other, breaker] })).toEqual(fatal('x_exception'));
    expect(
      at429({ type: 'x_exception', root_cause: [...Array.from({ length: 10 }, () => other), breaker] }),
    ).toEqual(throttled('x_exception'));
    // Down the caused_by chain: five levels are read, not a sixth.
    const chain = (depth: number): unknown =>
      depth === 0 ? breaker : { type: 'wrapper_exception', caused_by: chain(depth - 1) };
    expect(at429(chain(4))).toEqual(fatal('wrapper_exception'));
    expect(at429(chain(5))).toEqual(throttled('wrapper_exception'));
    // Odd bodies never throw: null causes and roots, no error, a text body.
    expect(at429({ type: 'x_exception', caused_by: null, root_cause: [null, 'text'] })).toEqual(
      throttled('x_exception'),
    );
    expect(at429(null)).toEqual(throttled(429));
    expect(classifyResponse(429, 'Too Many Requests', esHeader)).toEqual(throttled(429));
    expect(classifyResponse(429, null, esHeader)).toEqual(throttled(429));
  });

  it('ConnectionError: the remaining undici codes, and causes read with care (bounded, by code only)', () => {
    expect(connection({ name: 'ClientDestroyedError', code: 'UND_ERR_DESTROYED' })).toEqual({
      kind: 'connection',
      code: 'CLIENT_DESTROYED',
    });
    expect(connection({ name: 'HeadersTimeoutError', code: 'UND_ERR_HEADERS_TIMEOUT' })).toEqual({
      kind: 'timeout',
      code: 'REQUEST_TIMEOUT',
    });
    const unread = { kind: 'connection', code: 'CONNECTION_ERROR' };
    // A code that is not a string, or an Object.prototype member's name, is no code.
    expect(connection({ code: ['UND_ERR_CONNECT_TIMEOUT'] })).toEqual(unread);
    expect(connection({ code: 'constructor' })).toEqual(unread);
    expect(connection(null)).toEqual(unread);
    // Four causes deep are read, not a fifth (a cause chain is not trusted to end).
    const wrapped = (depth: number): unknown =>
      depth === 1 ? { code: 'UND_ERR_CONNECT_TIMEOUT' } : { cause: wrapped(depth - 1) };
    expect(connection(wrapped(4))).toEqual({ kind: 'connection', code: 'CONNECT_TIMEOUT', sent: false });
    expect(connection(wrapped(5))).toEqual(unread);
    const cyclic: { cause?: unknown } = {};
    cyclic.cause = cyclic;
    expect(connection(cyclic)).toEqual(unread);
  });

  it('RequestAbortedError: a cause that is not the driver’s (the signal’s reason) is an abort', () => {
    const reason = new DOMException('This operation was aborted', 'AbortError');
    expect(
      classifyElasticsearchError(
        new errors.RequestAbortedError('aborted', undefined, { ...redaction, cause: reason }),
      ),
    ).toEqual({ kind: 'timeout', code: 'ABORTED' });
  });

  it('the client errors that cannot have sent anything, and the one that read a bad answer', () => {
    expect(classifyElasticsearchError(new errors.SerializationError('circular', {}))).toEqual({
      kind: 'fatal',
      code: 'SERIALIZATION',
      sent: false,
    });
    expect(classifyElasticsearchError(new errors.ConfigurationError('bad'))).toEqual({
      kind: 'fatal',
      code: 'CONFIGURATION',
      sent: false,
    });
    expect(classifyElasticsearchError(new errors.DeserializationError('bad json', '{'))).toEqual({
      kind: 'fatal',
      code: 'DESERIALIZATION',
    });
    expect(
      classifyElasticsearchError(new errors.ProductNotSupportedError('Elasticsearch', {} as never)),
    ).toEqual({
      kind: 'fatal',
      code: 'PRODUCT_NOT_SUPPORTED',
      message: 'The server did not identify itself as Elasticsearch (no x-elastic-product header)',
    });
  });

  it('anything else: a socket error by its code, an abort, else unknown', () => {
    expect(
      classifyElasticsearchError(Object.assign(new Error('x'), { code: 'ECONNREFUSED', syscall: 'connect' })),
    ).toEqual({
      kind: 'connection',
      code: 'ECONNREFUSED',
      sent: false,
    });
    expect(classifyElasticsearchError(new Error('connect ECONNREFUSED'))).toEqual({ kind: 'unknown' });
    expect(classifyElasticsearchError(null)).toEqual({ kind: 'unknown' });
    expect(classifyElasticsearchError(undefined)).toEqual({ kind: 'unknown' });
    expect(classifyElasticsearchError(42)).toEqual({ kind: 'unknown' });
  });
});

describe('errorType and retryAfterMs read only what is there', () => {
  it('errorType: a string error.type, else undefined', () => {
    expect(errorType({ error: { type: 'version_conflict_engine_exception' } })).toBe(
      'version_conflict_engine_exception',
    );
    expect(errorType(null)).toBeUndefined();
    expect(errorType('text')).toBeUndefined();
    expect(errorType({ error: null })).toBeUndefined();
    expect(errorType({ error: 'a string' })).toBeUndefined();
    expect(errorType({ error: { type: 5 } })).toBeUndefined();
  });

  it('retryAfterMs: whole or decimal seconds (trimmed, numbers too) or an HTTP date; nothing else', () => {
    expect(retryAfterMs('12')).toBe(12_000);
    expect(retryAfterMs('1.25')).toBe(1250);
    expect(retryAfterMs(' 2 ')).toBe(2000);
    expect(retryAfterMs(3)).toBe(3000);
    expect(retryAfterMs('x5')).toBeUndefined();
    expect(retryAfterMs('5x')).toBeUndefined();
    expect(retryAfterMs(new Date(10_000), 4000)).toBeUndefined();
    expect(retryAfterMs(new Date(1000).toUTCString(), 4000)).toBe(0);
  });
});
