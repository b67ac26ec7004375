import { bulk } from './bulk.js';
import { clusterHealth, info, nodesInfo } from './cluster-routes.js';
import { deleteDocument, getDocument, indexAdmin, indexDocument } from './document-routes.js';
import { type EsResponse } from './es-errors.js';
import type { RestContext } from './rest-context.js';
import { count, refresh, search } from './search-routes.js';

const noHandler = (ctx: RestContext): EsResponse => ({
  status: 400,
  body: {
    error: `no handler found for uri [${ctx.request.path}] and method [${ctx.request.method}]`,
    status: 400,
  },
});

const methodNotAllowed = (ctx: RestContext, allowed: string[]): EsResponse => ({
  status: 405,
  body: {
    error: `Incorrect HTTP method for uri [${ctx.request.path}] and method [${ctx.request.method}], allowed: [${allowed.join(', ')}]`,
    status: 405,
  },
});

const notNodesInfo = new Set(['stats', 'usage', 'hot_threads', 'reload_secure_settings', 'shutdown']);

/** Dispatches one request to its handler (the REST subset listed in the testkit README). */
export async function route(ctx: RestContext): Promise<EsResponse> {
  const { method, segments: s } = ctx.request;
  const [first, second, third] = s;
  const is = (...methods: string[]): boolean => methods.includes(method);
  const read = is('GET', 'POST');

  if (s.length === 0) return is('GET', 'HEAD') ? info(ctx) : methodNotAllowed(ctx, ['HEAD', 'GET']);
  switch (first) {
    case '_cluster':
      if (second === 'health' && s.length <= 3 && is('GET')) return clusterHealth(ctx, third);
      return noHandler(ctx);
    case '_nodes':
      // Only nodes info: stats, usage, hot threads are other APIs the stand-in does not have.
      if (s.slice(1).some((p) => notNodesInfo.has(p))) return noHandler(ctx);
      if (s.length <= 3 && is('GET')) return nodesInfo(ctx, second, third);
      return noHandler(ctx);
    case '_search':
      return s.length === 1 && read ? search(ctx, undefined) : noHandler(ctx);
    case '_count':
      return s.length === 1 && read ? count(ctx, undefined) : noHandler(ctx);
    case '_refresh':
      return s.length === 1 && read ? refresh(ctx, undefined) : noHandler(ctx);
    case '_bulk':
      return s.length === 1 && is('POST', 'PUT') ? bulk(ctx, undefined) : noHandler(ctx);
  }
  if (first === undefined || first.startsWith('_')) return noHandler(ctx);
  const index = first;
  if (s.length === 1) return is('PUT', 'DELETE', 'HEAD', 'GET') ? indexAdmin(ctx, index) : noHandler(ctx);
  switch (second) {
    case '_search':
      return s.length === 2 && read ? search(ctx, index) : noHandler(ctx);
    case '_count':
      return s.length === 2 && read ? count(ctx, index) : noHandler(ctx);
    case '_refresh':
      return s.length === 2 && read ? refresh(ctx, index) : noHandler(ctx);
    case '_bulk':
      return s.length === 2 && is('POST', 'PUT') ? bulk(ctx, index) : noHandler(ctx);
    case '_create':
      return s.length === 3 && is('PUT', 'POST') ? indexDocument(ctx, index, third, true) : noHandler(ctx);
    case '_doc':
      if (s.length === 2) return is('POST') ? indexDocument(ctx, index, undefined, false) : noHandler(ctx);
      if (s.length !== 3) return noHandler(ctx);
      if (is('PUT', 'POST')) return indexDocument(ctx, index, third, false);
      if (is('GET', 'HEAD')) return getDocument(ctx, index, third!);
      if (is('DELETE')) return deleteDocument(ctx, index, third!);
      return methodNotAllowed(ctx, ['DELETE', 'GET', 'HEAD', 'POST', 'PUT']);
  }
  return noHandler(ctx);
}
