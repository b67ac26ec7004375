import type { Attributes } from '@opentelemetry/api';
import { AttributeNames as A } from './names.js';
import { withDeprecatedNames, type DbFacts } from './semconv.js';

/** How many operations' metric attributes a target keeps made. */
const maxCachedOperations = 1000;

/**
 * One target's database as its spans and metrics describe it: the facts (system, namespace, server) and the
 * attribute objects made of them once, not per operation. Replaced facts (a reconnect found a MariaDB server)
 * make new objects; readers take whichever is current when an operation starts.
 */
export class DbTarget {
  readonly target: string;
  readonly dup: boolean;
  #facts: DbFacts;
  #span: Attributes;
  #metric: Attributes;
  /** `db.client.operation.duration`'s attributes per operation name and collection, made once each. */
  readonly #byOperation = new Map<string, Attributes>();

  constructor(target: string, facts: DbFacts, dup: boolean) {
    this.target = target;
    this.dup = dup;
    this.#facts = facts;
    this.#span = this.#spanAttributes(facts);
    this.#metric = this.#metricAttributes(facts);
  }

  /** What is known of the database now. */
  get facts(): DbFacts {
    return this.#facts;
  }

  /**
   * Attributes every span about this target starts with: `reconnect.target`, `db.system.name`, `db.namespace`,
   * and `server.address` / `server.port` / `network.peer.*` of a single-server target (frozen: copy to extend).
   */
  get spanAttributes(): Attributes {
    return this.#span;
  }

  /** Attributes every data point of this target carries: `reconnect.target`, `db.system.name`, `db.namespace` (frozen). */
  get metricAttributes(): Attributes {
    return this.#metric;
  }

  /**
   * The metric attributes of an operation named `name` on `collection` (`db.operation.name`, `db.collection.name`):
   * the target's own object when it has neither, else one object per name and collection, kept (up to a bound,
   * past which a name never seen is given a new object each time: a name is meant to be low in cardinality).
   */
  operationAttributes(name: string | undefined, collection: string | undefined): Attributes {
    if (name === undefined && collection === undefined) return this.#metric;
    const key = `${name ?? ''}\u0000${collection ?? ''}`;
    let attributes = this.#byOperation.get(key);
    if (attributes === undefined) {
      const merged: Attributes = { ...this.#metric };
      if (name !== undefined) merged[A.DB_OPERATION_NAME] = name;
      if (collection !== undefined) merged[A.DB_COLLECTION_NAME] = collection;
      attributes = Object.freeze(this.dup ? withDeprecatedNames(merged) : merged);
      if (this.#byOperation.size < maxCachedOperations) this.#byOperation.set(key, attributes);
    }
    return attributes;
  }

  /** Takes new facts (after a connect); unchanged facts keep the same objects. */
  update(facts: DbFacts): void {
    const f = this.#facts;
    if (
      f.system === facts.system &&
      f.namespace === facts.namespace &&
      f.serverAddress === facts.serverAddress &&
      f.serverPort === facts.serverPort &&
      f.peerAddress === facts.peerAddress &&
      f.peerPort === facts.peerPort
    )
      return;
    this.#facts = facts;
    this.#span = this.#spanAttributes(facts);
    this.#metric = this.#metricAttributes(facts);
    this.#byOperation.clear();
  }

  #metricAttributes(f: DbFacts): Attributes {
    const a: Attributes = { [A.TARGET]: this.target, [A.DB_SYSTEM_NAME]: f.system };
    if (f.namespace !== undefined) a[A.DB_NAMESPACE] = f.namespace;
    return Object.freeze(this.dup ? withDeprecatedNames(a) : a);
  }

  #spanAttributes(f: DbFacts): Attributes {
    const a: Attributes = { [A.TARGET]: this.target, [A.DB_SYSTEM_NAME]: f.system };
    if (f.namespace !== undefined) a[A.DB_NAMESPACE] = f.namespace;
    if (f.serverAddress !== undefined) {
      a[A.SERVER_ADDRESS] = f.serverAddress;
      if (f.serverPort !== undefined) a[A.SERVER_PORT] = f.serverPort;
    }
    if (f.peerAddress !== undefined) {
      a[A.NETWORK_PEER_ADDRESS] = f.peerAddress;
      if (f.peerPort !== undefined) a[A.NETWORK_PEER_PORT] = f.peerPort;
    }
    return Object.freeze(this.dup ? withDeprecatedNames(a) : a);
  }
}
