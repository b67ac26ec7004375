// Per-node faults of the Elasticsearch test cluster. The rules live in the coordinator (the process
// that started the cluster), not in the node process, so they can be set, changed and cleared while
// the node is SIGSTOPped; they apply to the requests the node forwards once it runs again.

/** Which requests a rule applies to. Every field is optional; an empty match takes every request. */
export interface RequestMatch {
  /** HTTP method, e.g. `POST`. */
  method?: string;
  /** A path prefix (`/_bulk`, `/logs/_doc`) or a RegExp tested against the path (no query string). */
  path?: string | RegExp;
}

/** How long a rule lasts: the next `requests` matching requests, `forMs` milliseconds, or both (whichever ends first). Neither: until removed. */
export interface FaultScope {
  requests?: number;
  forMs?: number;
  match?: RequestMatch;
}

/** An error answer (503, 429, …) with an Elasticsearch error body. */
export interface StatusFault {
  kind: 'status';
  status: number;
  type: string;
  reason: string;
  /** Sent as the `Retry-After` header (seconds). */
  retryAfterSeconds: number | undefined;
  /** More fields of the error (`durability`, `bytes_wanted`, …), beside `type` and `reason`. */
  fields: Record<string, unknown> | undefined;
}

/** Every kind of fault a rule can inject. */
export type Fault =
  | StatusFault
  /**
   * What a proxy or load balancer in front of the node answers by itself: `status` with its own page
   * (`contentType`, `body`), no Elasticsearch error body and no `x-elastic-product` header. With `apply` the
   * request reached Elasticsearch and ran first (a 504 after a slow upstream, a 502 after one that died answering).
   */
  | { kind: 'proxy'; status: number; contentType: string; body: string; apply: boolean }
  | { kind: 'latency'; ms: number }
  | { kind: 'never'; apply: boolean }
  | { kind: 'reset'; apply: boolean; afterBytes: number | undefined }
  | { kind: 'bulk-reject'; items: number };

/** An installed rule; `remove()` takes it out early. */
export interface FaultRule {
  readonly fault: Fault;
  /** How many requests it has applied to so far. */
  readonly hits: number;
  /** True while it still applies (requests left, time left, not removed). */
  readonly active: boolean;
  remove(): void;
}

/** What the rules decided for one request. */
export interface FaultDecision {
  delayMs: number;
  outcome: StatusFault | Extract<Fault, { kind: 'proxy' | 'never' | 'reset' }> | undefined;
  /** For a bulk request: reject this many of its first items with 429. */
  bulkRejectItems: number;
}

/** The request facts a rule matches on. */
export interface RequestFacts {
  method: string;
  path: string;
}

class Rule implements FaultRule {
  hits = 0;
  #removed = false;
  readonly #until: number | undefined;
  constructor(
    readonly fault: Fault,
    readonly scope: FaultScope,
  ) {
    this.#until = scope.forMs === undefined ? undefined : Date.now() + scope.forMs;
  }
  get active(): boolean {
    if (this.#removed) return false;
    if (this.scope.requests !== undefined && this.hits >= this.scope.requests) return false;
    return this.#until === undefined || Date.now() < this.#until;
  }
  matches(req: RequestFacts): boolean {
    if (!this.active) return false;
    const m = this.scope.match ?? {};
    if (m.method !== undefined && m.method.toUpperCase() !== req.method.toUpperCase()) return false;
    if (m.path instanceof RegExp && !m.path.test(req.path)) return false;
    if (typeof m.path === 'string' && !req.path.startsWith(m.path)) return false;
    if (this.fault.kind === 'bulk-reject' && !/\/_bulk$/.test(req.path)) return false;
    return true;
  }
  remove(): void {
    this.#removed = true;
  }
}

// The error pages nginx writes itself (a reverse proxy's answer, not its upstream's).
const proxyReasons: Readonly<Record<number, string>> = {
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
};
const proxyPage = (status: number): string => {
  const title = `${status} ${proxyReasons[status] ?? 'Error'}`;
  return `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
};

/** The fault controls of one node of the test cluster (`cluster.nodes[i].faults`). */
export class NodeFaults {
  #rules: Rule[] = [];

  /** 503 `unavailable_shards_exception` (the client's transport retries 502/503/504 on another node). */
  unavailable(scope: FaultScope = {}): FaultRule {
    return this.respond(
      {
        status: 503,
        type: 'unavailable_shards_exception',
        reason: '[testkit][0] primary shard is not active Timeout: [1m]',
      },
      scope,
    );
  }

  /** 429 `es_rejected_execution_exception` with `Retry-After` (default 1 s): the node is overloaded. */
  tooManyRequests(options: FaultScope & { retryAfterSeconds?: number } = {}): FaultRule {
    const { retryAfterSeconds = 1, ...scope } = options;
    return this.respond(
      {
        status: 429,
        type: 'es_rejected_execution_exception',
        reason:
          'rejected execution of coordinating operation [testkit fault]: queue capacity [10000] is full',
        retryAfterSeconds,
      },
      scope,
    );
  }

  /**
   * 429 `circuit_breaking_exception`, Elasticsearch's answer when a memory circuit breaker trips, with its
   * `bytes_wanted`, `bytes_limit` and `durability`: `TRANSIENT` (default; the parent breaker, memory in use by other
   * requests: waiting helps) or `PERMANENT` (the request alone exceeds a breaker's limit: it trips again).
   * No `Retry-After` unless `retryAfterSeconds` (Elasticsearch sends none).
   */
  circuitBreaking(
    options: FaultScope & { durability?: 'TRANSIENT' | 'PERMANENT'; retryAfterSeconds?: number } = {},
  ): FaultRule {
    const { durability = 'TRANSIENT', retryAfterSeconds, ...scope } = options;
    const permanent = durability === 'PERMANENT';
    const [wanted, limit] = permanent ? [1_073_741_824, 644_245_094] : [1_020_054_732, 1_020_054_732 - 1];
    return this.respond(
      {
        status: 429,
        type: 'circuit_breaking_exception',
        reason: permanent
          ? `[request] Data too large, data for [<reused_arrays>] would be [${wanted}/1gb], which is larger than the limit of [${limit}/614.3mb]`
          : `[parent] Data too large, data for [<http_request>] would be [${wanted}/972.7mb], which is larger than the limit of [${limit}/972.7mb], real usage: [${wanted - 1024}/972.7mb], new bytes reserved: [1024/1kb]`,
        fields: { bytes_wanted: wanted, bytes_limit: limit, durability },
        ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      },
      scope,
    );
  }

  /** Any error status with an Elasticsearch error body of `type`, `reason` and any more `fields`. */
  respond(
    error: {
      status: number;
      type: string;
      reason: string;
      retryAfterSeconds?: number;
      fields?: Record<string, unknown>;
    },
    scope: FaultScope = {},
  ): FaultRule {
    return this.#add({ kind: 'status', retryAfterSeconds: undefined, fields: undefined, ...error }, scope);
  }

  /**
   * Answers as a proxy or load balancer in front of the node does when its upstream is gone: `status` (default
   * 503; 502 and 504 are the others a proxy says) with nginx's HTML error page (or `body` as `contentType`), no
   * Elasticsearch error body and no `x-elastic-product` header. By default the request is not applied (the proxy
   * had no upstream to forward it to); with `apply` it runs first and its answer is replaced (a 504 after a slow
   * upstream, a 502 after one that died answering).
   */
  proxyError(
    options: FaultScope & { status?: number; apply?: boolean; body?: string; contentType?: string } = {},
  ): FaultRule {
    const { status = 503, apply = false, body, contentType, ...scope } = options;
    if (!Number.isInteger(status) || status < 400 || status > 599)
      throw new RangeError(`proxyError: status ${status} is not an HTTP error status (400–599)`);
    return this.#add(
      {
        kind: 'proxy',
        status,
        contentType: contentType ?? (body === undefined ? 'text/html' : 'text/plain'),
        body: body ?? proxyPage(status),
        apply,
      },
      scope,
    );
  }

  /** Holds every answer `ms` longer (the request itself is applied at once). */
  latency(ms: number, scope: FaultScope = {}): FaultRule {
    return this.#add({ kind: 'latency', ms }, scope);
  }

  /**
   * Accepts the request and never answers, while the process keeps running. With `apply` the request
   * is executed first (a write lands, its acknowledgement never comes); by default it is not.
   */
  neverAnswer(options: FaultScope & { apply?: boolean } = {}): FaultRule {
    const { apply = false, ...scope } = options;
    return this.#add({ kind: 'never', apply }, scope);
  }

  /**
   * Writes the status line, the headers and `afterBytes` bytes of the body (default: half), then resets
   * the connection. By default the request is applied first: a write lands and its answer is lost.
   */
  resetMidResponse(options: FaultScope & { apply?: boolean; afterBytes?: number } = {}): FaultRule {
    const { apply = true, afterBytes, ...scope } = options;
    return this.#add({ kind: 'reset', apply, afterBytes }, scope);
  }

  /** In each matching `_bulk` request, the first `items` items fail with 429 (not applied); the others run. */
  rejectBulkItems(items: number, scope: FaultScope = {}): FaultRule {
    return this.#add({ kind: 'bulk-reject', items }, scope);
  }

  /** Removes every rule. */
  clear(): void {
    for (const rule of this.#rules) rule.remove();
    this.#rules = [];
  }

  /** The rules still in force. */
  active(): FaultRule[] {
    this.#rules = this.#rules.filter((r) => r.active);
    return [...this.#rules];
  }

  /** Applies the rules to one request (each rule that applies counts a hit). */
  decide(req: RequestFacts): FaultDecision {
    const decision: FaultDecision = { delayMs: 0, outcome: undefined, bulkRejectItems: 0 };
    for (const rule of this.#rules) {
      if (!rule.matches(req)) continue;
      const fault = rule.fault;
      if (fault.kind === 'latency') decision.delayMs += fault.ms;
      else if (fault.kind === 'bulk-reject')
        decision.bulkRejectItems = Math.max(decision.bulkRejectItems, fault.items);
      else if (decision.outcome === undefined) decision.outcome = fault;
      else continue; // a second outcome rule waits for a later request
      rule.hits++;
    }
    return decision;
  }

  #add(fault: Fault, scope: FaultScope): FaultRule {
    const rule = new Rule(fault, scope);
    this.#rules.push(rule);
    return rule;
  }
}
