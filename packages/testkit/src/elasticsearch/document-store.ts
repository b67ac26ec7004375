import { randomBytes, randomUUID } from 'node:crypto';
import { errorCause } from './es-errors.js';
import type { WriteLogEntry, WriteRequest } from './write-log.js';

/** A document version as stored: live, or a tombstone after a delete (so versions keep counting). */
export interface StoredDoc {
  id: string;
  source: unknown;
  version: number;
  seqNo: number;
  primaryTerm: number;
  deleted: boolean;
}

/** One index: a single primary shard; documents, tombstones and the last refreshed (searchable) view. */
export class EsIndex {
  readonly uuid = randomBytes(16).toString('base64url').slice(0, 22);
  readonly primaryTerm = 1;
  readonly docs = new Map<string, StoredDoc>();
  #searchable: StoredDoc[] = [];
  #nextSeqNo = 0;
  #dirty = false;

  constructor(
    readonly name: string,
    readonly replicas: number,
  ) {}

  /** The documents a search sees: those live at the last refresh, in indexing order. */
  get searchable(): readonly StoredDoc[] {
    return this.#searchable;
  }

  nextSeqNo(): number {
    this.#dirty = true;
    return this.#nextSeqNo++;
  }

  /** Makes every live document searchable. */
  refresh(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    this.#searchable = [...this.docs.values()].filter((d) => !d.deleted).sort((a, b) => a.seqNo - b.seqNo);
  }
}

/** A write to apply; `id` undefined means "generate one" (`POST /{index}/_doc`). */
export interface WriteOp {
  action: 'index' | 'create' | 'delete';
  index: string;
  id: string | undefined;
  source?: unknown;
  ifSeqNo?: number | undefined;
  ifPrimaryTerm?: number | undefined;
  /** The caller generated `id` (a bulk item without `_id`); by default: `id` is undefined. */
  autoId?: boolean;
  request: WriteRequest;
}

/** The outcome of a write: the applied entry, or an Elasticsearch error cause with its status. */
export type WriteOutcome =
  | { ok: true; status: number; entry: WriteLogEntry }
  | { ok: false; status: number; error: Record<string, unknown>; index: string; id: string };

const invalidIndexChars = /[\\/*?"<>| ,#:A-Z]/;

/** The reason an index name is invalid, or undefined when it is fine. */
export function invalidIndexName(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return 'must not be empty, "." or ".."';
  if (/^[_\-+]/.test(name)) return "must not start with '_', '-', or '+'";
  if (invalidIndexChars.test(name))
    return 'must be lowercase and must not contain the following characters [ , ", *, \\, <, |, ,, >, /, ?, #, :]';
  return undefined;
}

/** Elasticsearch-style auto ids: 20 URL-safe base64 characters. */
export function autoId(): string {
  return randomBytes(15).toString('base64url');
}

/**
 * The cluster's one document store, shared by every node (it lives in the coordinator, not in a node
 * process, so it survives the crash of any node). Every applied write is appended to the write log.
 */
export class DocumentStore {
  readonly clusterUuid = randomUUID().replace(/-/g, '').slice(0, 22);
  readonly indices = new Map<string, EsIndex>();
  readonly log: WriteLogEntry[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** `refreshIntervalMs` > 0 refreshes every index periodically, like `index.refresh_interval` (1 s). */
  constructor(refreshIntervalMs: number) {
    if (refreshIntervalMs > 0) {
      this.#timer = setInterval(() => this.refresh([...this.indices.values()]), refreshIntervalMs);
      this.#timer.unref();
    }
  }

  close(): void {
    clearInterval(this.#timer);
  }

  createIndex(name: string, replicas = 1): EsIndex {
    const index = new EsIndex(name, replicas);
    this.indices.set(name, index);
    return index;
  }

  /**
   * Resolves an index expression (`a`, `a,b`, `logs-*`, `_all`, `*`). A missing concrete name is
   * reported unless `ignoreUnavailable`; wildcards that match nothing resolve to no index.
   */
  resolve(expression: string | undefined, ignoreUnavailable = false): EsIndex[] | { missing: string } {
    if (expression === undefined || expression === '' || expression === '_all')
      return [...this.indices.values()];
    const found = new Map<string, EsIndex>();
    for (const part of expression.split(',')) {
      if (part.includes('*')) {
        const pattern = new RegExp(`^${part.split('*').map(escapeRegExp).join('.*')}$`);
        for (const index of this.indices.values()) if (pattern.test(index.name)) found.set(index.name, index);
        continue;
      }
      const index = this.indices.get(part);
      if (index !== undefined) found.set(part, index);
      else if (!ignoreUnavailable) return { missing: part };
    }
    return [...found.values()];
  }

  refresh(indices: readonly EsIndex[]): void {
    for (const index of indices) index.refresh();
  }

  /** Applies one write (auto-creating the index, as `action.auto_create_index` does by default). */
  write(op: WriteOp): WriteOutcome {
    const index = this.indices.get(op.index) ?? this.createIndex(op.index);
    const id = op.id ?? autoId();
    const current = index.docs.get(id);
    const live = current !== undefined && !current.deleted ? current : undefined;
    const fail = (status: number, error: Record<string, unknown>): WriteOutcome => ({
      ok: false,
      status,
      error,
      index: op.index,
      id,
    });
    if (op.ifSeqNo !== undefined || op.ifPrimaryTerm !== undefined) {
      if (live === undefined || live.seqNo !== op.ifSeqNo || live.primaryTerm !== op.ifPrimaryTerm) {
        const found =
          live === undefined
            ? 'but no document was found'
            : `current document has seqNo [${live.seqNo}] and primary term [${live.primaryTerm}]`;
        return fail(
          409,
          versionConflict(
            op.index,
            id,
            index.uuid,
            `required seqNo [${op.ifSeqNo}], primary term [${op.ifPrimaryTerm}]. ${found}`,
          ),
        );
      }
    }
    if (op.action === 'create' && live !== undefined) {
      return fail(
        409,
        versionConflict(
          op.index,
          id,
          index.uuid,
          `document already exists (current version [${live.version}])`,
        ),
      );
    }
    if (op.action === 'delete' && live === undefined) {
      return { ok: false, status: 404, error: {}, index: op.index, id };
    }
    const doc: StoredDoc = {
      id,
      source: op.action === 'delete' ? undefined : op.source,
      version: (current?.version ?? 0) + 1,
      seqNo: index.nextSeqNo(),
      primaryTerm: index.primaryTerm,
      deleted: op.action === 'delete',
    };
    index.docs.set(id, doc);
    const entry: WriteLogEntry = {
      seq: this.log.length + 1,
      at: Date.now(),
      action: op.action,
      index: op.index,
      id,
      autoId: op.autoId ?? op.id === undefined,
      result: op.action === 'delete' ? 'deleted' : live === undefined ? 'created' : 'updated',
      version: doc.version,
      seqNo: doc.seqNo,
      primaryTerm: doc.primaryTerm,
      source: doc.source,
      request: op.request,
    };
    this.log.push(entry);
    return { ok: true, status: entry.result === 'created' ? 201 : 200, entry };
  }

  /** The live document, for GET (real time: no refresh needed, as in Elasticsearch). */
  get(index: EsIndex, id: string): StoredDoc | undefined {
    const doc = index.docs.get(id);
    return doc === undefined || doc.deleted ? undefined : doc;
  }
}

function versionConflict(index: string, id: string, uuid: string, detail: string): Record<string, unknown> {
  return errorCause('version_conflict_engine_exception', `[${id}]: version conflict, ${detail}`, {
    index_uuid: uuid,
    shard: '0',
    index,
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
