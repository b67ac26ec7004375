import { AttemptEndedError, type AttemptContext } from '@reconnect/core';
import type { ElasticsearchClient } from './client.js';
import { stateOf } from './client.js';
import { boundByAttempt } from './connection.js';

// The client an operation receives is a view of the node's client bound to the operation's attempt (the driver's
// `bindAttempt`). Every API method of @elastic/elasticsearch, top-level (`search`) or namespaced (`indices.create`),
// ends in `this.transport.request(params, options)`, so the view has a transport of its own whose `request` sees
// each request first:
// - a request sent after its attempt ended (the operation was abandoned at its timeout, its deadline or the
//   caller's abort) is refused unsent with core's AttemptEndedError, so an abandoned operation cannot write behind
//   the caller's back;
// - the others carry the attempt's signal, which is their only limit (connection.ts lifts undici's fixed timeouts
//   for them): the call's own attemptTimeout, its deadline and the caller's abort reach the socket, whether or not
//   the operation passes `ctx.signal` itself.
// Everything else is the client's own: the view inherits from it. The namespaces (`indices`, `cluster`, …) hold the
// transport they were made with, so the view's are views of the client's, holding the view's transport.
// Not bound: `client.helpers` and `client.child()` (they keep the client itself), which carry the policy's limit.

type Transport = ElasticsearchClient['transport'];
type RequestOptions = NonNullable<Parameters<Transport['request']>[1]>;
type Send = (params: unknown, options?: RequestOptions) => Promise<unknown>;

const attemptKey = Symbol('reconnect.elasticsearch.attempt');
const optionsKey = Symbol('reconnect.elasticsearch.options');

interface TransportView {
  [attemptKey]: AttemptContext;
  /** The options of the attempt's requests sent without any: made by the first (reading the signal makes it). */
  [optionsKey]: RequestOptions | undefined;
}

/** The options a request of `attempt` goes out with: the caller's, and the attempt's signal. */
function withAttempt(view: TransportView, attempt: AttemptContext, options: RequestOptions | undefined) {
  if (options === undefined) return (view[optionsKey] ??= { signal: boundByAttempt(attempt.signal) });
  const own = options.signal;
  const signal = attempt.signal;
  // Passed `ctx.signal` itself (elasticsearchRequests does): the options are right as they are.
  if (own === signal) {
    boundByAttempt(signal);
    return options;
  }
  return {
    ...options,
    signal: boundByAttempt(own === undefined ? signal : AbortSignal.any([own, signal])),
  };
}

interface ViewPrototypes {
  client: object;
  transport: object;
}

/** Per client, the prototypes of its views (made once: a view per attempt is then two objects). */
const prototypes = new WeakMap<ElasticsearchClient, ViewPrototypes>();

/** The client's namespace getters (`indices`, `cluster`, …): each made a getter of the view's own namespace. */
function namespaceViews(client: ElasticsearchClient): PropertyDescriptorMap {
  const members: PropertyDescriptorMap = {};
  for (let p = Object.getPrototypeOf(client) as object | null; p !== null && p !== Object.prototype;) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get === undefined || name in members) continue;
      members[name] = {
        get(this: { transport: Transport }) {
          const own = (client as unknown as Record<string, unknown>)[name];
          // Only what holds the client's transport needs a view; anything else is the client's own.
          if (typeof own !== 'object' || own === null) return own;
          if ((own as { transport?: unknown }).transport !== client.transport) return own;
          const view: unknown = Object.create(own, { transport: { value: this.transport } });
          Object.defineProperty(this, name, { value: view });
          return view;
        },
      };
    }
    p = Object.getPrototypeOf(p) as object | null;
  }
  return members;
}

function prototypesOf(client: ElasticsearchClient): ViewPrototypes {
  const known = prototypes.get(client);
  if (known !== undefined) return known;
  const transport = client.transport;
  const send = transport.request.bind(transport) as Send;
  const target = stateOf(client)?.target;
  const ended = target === undefined ? undefined : { target };
  const made: ViewPrototypes = {
    client: Object.create(client, namespaceViews(client)) as object,
    transport: Object.create(transport, {
      request: {
        value: function request(this: TransportView, params: unknown, options?: RequestOptions) {
          const attempt = this[attemptKey];
          if (attempt.aborted) return Promise.reject(new AttemptEndedError(ended));
          return send(params, withAttempt(this, attempt, options));
        },
      },
    }) as object,
  };
  prototypes.set(client, made);
  return made;
}

/** The client one attempt's operation receives: the requests it sends follow `attempt` (see above). */
export function bindClientToAttempt(
  client: ElasticsearchClient,
  attempt: AttemptContext,
): ElasticsearchClient {
  const proto = prototypesOf(client);
  const transport = Object.create(proto.transport) as TransportView;
  transport[attemptKey] = attempt;
  transport[optionsKey] = undefined;
  const view = Object.create(proto.client) as { transport: unknown };
  view.transport = transport;
  return view as ElasticsearchClient;
}
