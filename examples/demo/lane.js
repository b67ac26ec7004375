// One stream of operations against one store, through one client (Reconnect's target or the raw
// client): an idempotent read every `readEveryMs` and a non-idempotent write of a unique id every
// `writeEveryMs`, issued on schedule whether or not earlier ones finished (an open loop, like
// requests reaching a service), each one recorded with its start, end and error.
/* global setInterval, clearInterval, performance */

/**
 * @typedef {object} OpRecord
 * @property {'read' | 'write'} kind
 * @property {string} id          the write's unique id (reads get one too, for traces)
 * @property {number} t0          ms since the workload started
 * @property {number} [t1]        when it settled; absent while it still waits
 * @property {boolean} [ok]
 * @property {string} [code]      the error's code or name
 * @property {string} [outcome]   a Reconnect error's outcome: not_sent, unknown, failed
 * @property {string} [errorKind] a Reconnect error's kind: connection, timeout, throttled, transient, auth, fatal…
 * @property {string} [message]   the error message's first line
 * @property {string} [traceId]   the demo span's trace (Reconnect lanes)
 */

/** The error's code (or name), looking one level into `cause` for wrapped driver errors. */
export function codeOf(error) {
  if (error && typeof error === 'object') {
    if (typeof error.code === 'string' || typeof error.code === 'number') return String(error.code);
    if (error.name && error.name !== 'Error') return error.name;
    if (error.cause) return codeOf(error.cause);
    return 'Error';
  }
  return String(error);
}

export class Lane {
  /**
   * @param {object} o
   * @param {string} o.store
   * @param {'reconnect' | 'raw'} o.via
   * @param {(kind: 'read' | 'write', id: string, record: OpRecord) => Promise<unknown>} o.run
   * @param {() => number} o.now
   * @param {number} [o.maxPending] beyond this many unsettled operations new ones are not issued (counted as skipped)
   */
  constructor({ store, via, run, now, maxPending = 2000 }) {
    this.store = store;
    this.via = via;
    this.name = `${store}-${via}`;
    this.run = run;
    this.now = now;
    this.maxPending = maxPending;
    /** @type {OpRecord[]} */
    this.records = [];
    /** @type {Set<OpRecord>} */
    this.pending = new Set();
    this.acked = new Set();
    this.skipped = 0;
    this.seq = 0;
    this.timers = [];
  }

  start({ readEveryMs, writeEveryMs }) {
    if (readEveryMs >= 5 && writeEveryMs >= 5) {
      this.timers.push(setInterval(() => this.fire('read'), readEveryMs));
      this.timers.push(setInterval(() => this.fire('write'), writeEveryMs));
      return;
    }
    // Faster than a timer can fire (the chaos sweep's 1 000 and 5 000 ops/s): one 5 ms tick issues every
    // operation due since the workload started, so the rate holds on average.
    const t0 = performance.now();
    let reads = 0;
    let writes = 0;
    this.timers.push(
      setInterval(() => {
        const elapsed = performance.now() - t0;
        for (; reads < elapsed / readEveryMs; reads++) this.fire('read');
        for (; writes < elapsed / writeEveryMs; writes++) this.fire('write');
      }, 5),
    );
  }

  stop() {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  fire(kind) {
    if (this.pending.size >= this.maxPending) {
      this.skipped++;
      return;
    }
    const id = `${this.name}-${kind === 'write' ? 'w' : 'r'}${++this.seq}`;
    /** @type {OpRecord} */
    const rec = { kind, id, t0: this.now() };
    this.pending.add(rec);
    this.records.push(rec);
    let p;
    try {
      p = Promise.resolve(this.run(kind, id, rec));
    } catch (error) {
      p = Promise.reject(error);
    }
    p.then(
      () => {
        rec.ok = true;
        if (kind === 'write') this.acked.add(id);
      },
      (error) => {
        rec.ok = false;
        rec.code = codeOf(error);
        if (error && typeof error.outcome === 'string') rec.outcome = error.outcome;
        if (error && typeof error.kind === 'string') rec.errorKind = error.kind;
        // What a logger prints: the first line, enough to say why.
        rec.message = String(error?.message ?? error)
          .split('\n')[0]
          .slice(0, 240);
      },
    ).finally(() => {
      rec.t1 = this.now();
      this.pending.delete(rec);
    });
  }

  /** Waits until every issued operation settled, at most `ms`; resolves to how many still wait. */
  async drain(ms) {
    const until = Date.now() + ms;
    while (this.pending.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    return this.pending.size;
  }
}
