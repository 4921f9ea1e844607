// The in-memory store adapter: a map per collection with the port's transactional semantics (staged writes, atomic commit, optimistic checks).
import { SignalledOutbox } from './outboxSignals';
import { ConcurrencyError, DuplicateKeyError, DuplicateMessageError } from '../errors';
import type { Envelope } from '../envelope';
import type { TraceContext } from '../tracing';
import type {
  FastPath,
  CollectionSpec,
  Filter,
  FindOptions,
  Inbox,
  NearQuery,
  OutboxRecord,
  OutboxStats,
  OutboxStore,
  OutboxWriter,
  Repository,
  RunOptions,
  Sort,
  Store,
  Transaction,
  Versioned,
} from './port';
import {
  applySet,
  backoffDelay,
  canonicalKey,
  cloneDoc,
  getPath,
  haversineMeters,
  pointCoordinates,
  query,
  sleep,
  type Doc,
} from './query';
import { outboxRecordOf } from '../wire';

export interface MemoryStoreOptions {
  /** Shown in `description` (e.g. the database name the MongoDB store would use). */
  name?: string;
  /** Dispatched outbox rows older than this are pruned (default 7 days). */
  outboxRetentionSeconds?: number;
  /** Inbox records older than this are pruned (default 30 days). */
  inboxRetentionSeconds?: number;
  /** Default attempts of `run()` on a lost race (default 5). */
  maxAttempts?: number;
}

interface Row {
  doc: Doc;
  rev: number;
}

interface UniqueIndex {
  fields: string[];
  /** unique key → id of the committed document holding it */
  owners: Map<string, string>;
}

/** One collection: a plain map of committed documents in natural (insertion) order, and its unique keys. */
class MemCollection {
  readonly rows = new Map<string, Row>();
  uniques: UniqueIndex[] = [];
  constructor(readonly name: string) {}

  /** Commits one document version (null = deletion). */
  put(id: string, doc: Doc | null, rev: number): void {
    if (doc === null) this.rows.delete(id);
    else this.rows.set(id, { doc, rev });
  }

  *committed(): Generator<Doc> {
    for (const row of this.rows.values()) yield row.doc;
  }

  keyOf(index: UniqueIndex, doc: Doc): string {
    // Missing fields index as null, as in MongoDB.
    return canonicalKey(index.fields.map((f) => getPath(doc, f) ?? null));
  }
}

interface Staged {
  doc: Doc | null;
  /** The committed revision this transaction built on; null when the document did not exist. */
  baseRev: number | null;
}

interface InboxRow {
  consumer: string;
  messageId: string;
  type: string;
  processedAt: Date;
}

/** A conflict found at commit that a re-run of the work may resolve; `final` is what callers see once attempts run out. */
class WriteConflict extends Error {
  constructor(readonly final: Error) {
    super(final.message);
  }
}

const DEFAULT_OUTBOX_RETENTION_S = 7 * 24 * 3600;
const DEFAULT_INBOX_RETENTION_S = 30 * 24 * 3600;

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly description: string;
  readonly outbox: MemoryOutbox;
  private readonly collections = new Map<string, MemCollection>();
  private readonly inboxRows = new Map<string, InboxRow>();
  private revCounter = 0;
  private lastInboxPrune = 0;
  private readonly inboxRetentionMs: number;
  private readonly maxAttempts: number;
  private closed = false;

  constructor(options: MemoryStoreOptions = {}) {
    this.description = `in-memory store${options.name ? ` (${options.name})` : ''}`;
    this.outbox = new MemoryOutbox((options.outboxRetentionSeconds ?? DEFAULT_OUTBOX_RETENTION_S) * 1000);
    this.inboxRetentionMs = (options.inboxRetentionSeconds ?? DEFAULT_INBOX_RETENTION_S) * 1000;
    this.maxAttempts = options.maxAttempts ?? 5;
  }

  /** Only unique keys change what is stored; the other indexes make MongoDB fast, and a scan of a map answers the same. */
  async init(collections: CollectionSpec[]): Promise<void> {
    for (const spec of collections) {
      const coll = this.collection(spec.name);
      for (const index of spec.indexes ?? []) {
        if (!index.unique) continue;
        const fields = Object.keys(index.fields);
        if (coll.uniques.some((u) => u.fields.join('\0') === fields.join('\0'))) continue;
        const unique: UniqueIndex = { fields, owners: new Map() };
        for (const [id, row] of coll.rows) {
          const key = coll.keyOf(unique, row.doc);
          if (unique.owners.has(key)) throw new DuplicateKeyError(spec.name, key);
          unique.owners.set(key, id);
        }
        coll.uniques.push(unique);
      }
    }
  }

  /** @internal */
  collection(name: string): MemCollection {
    let coll = this.collections.get(name);
    if (!coll) {
      coll = new MemCollection(name);
      this.collections.set(name, coll);
    }
    return coll;
  }

  async run<R>(work: (tx: Transaction) => Promise<R>, options: RunOptions = {}): Promise<R> {
    const maxAttempts = Math.max(1, options.maxAttempts ?? this.maxAttempts);
    for (let attempt = 1; ; attempt++) {
      if (this.closed) throw new Error('store is closed');
      const tx = new MemTransaction(this);
      try {
        const result = await work(tx);
        this.commit(tx);
        this.outbox.signals.committed(
          tx.outboxRows.map((r) => cloneDoc(r)),
          tx.fastPath,
        );
        return result;
      } catch (err) {
        tx.finish();
        const retryable = err instanceof ConcurrencyError || err instanceof WriteConflict;
        if (retryable && attempt < maxAttempts) {
          await sleep(backoffDelay(attempt, 2));
          continue;
        }
        throw err instanceof WriteConflict ? err.final : err;
      }
    }
  }

  /** Checks every staged write against the committed state and applies all of them, or none; synchronous on purpose. */
  private commit(tx: MemTransaction): boolean {
    tx.assertUsable();
    tx.finish();
    // 1. optimistic checks: every document this unit of work wrote must be unchanged since it built on it
    for (const [collName, staged] of tx.writes) {
      const coll = this.collection(collName);
      for (const [id, s] of staged) {
        const current = coll.rows.get(id);
        const curRev = current ? current.rev : null;
        if (curRev === s.baseRev || (s.baseRev === null && s.doc === null)) continue;
        if (s.baseRev === null && s.doc !== null) throw new WriteConflict(new DuplicateKeyError(collName, `id ${id}`));
        throw new ConcurrencyError(collName, id, typeof s.doc?.version === 'number' ? s.doc.version - 1 : -1);
      }
    }
    // 2. unique keys against documents others committed meanwhile
    for (const [collName, staged] of tx.writes) {
      const coll = this.collection(collName);
      for (const unique of coll.uniques) {
        for (const [id, s] of staged) {
          if (!s.doc) continue;
          const key = coll.keyOf(unique, s.doc);
          const owner = unique.owners.get(key);
          if (owner === undefined || owner === id) continue;
          const ownerStaged = staged.get(owner);
          if (ownerStaged && (!ownerStaged.doc || coll.keyOf(unique, ownerStaged.doc) !== key)) continue;
          throw new WriteConflict(new DuplicateKeyError(collName, key));
        }
      }
    }
    for (const [key, row] of tx.inboxRows) {
      if (this.inboxRows.has(key)) throw new DuplicateMessageError(row.consumer, row.messageId);
    }
    for (const rec of tx.outboxRows) {
      if (this.outbox.has(rec.id)) throw new DuplicateKeyError('outbox', rec.id);
    }
    // 3. apply
    for (const [collName, staged] of tx.writes) {
      const coll = this.collection(collName);
      for (const [id, s] of staged) {
        // Inserted and deleted within this unit of work: nothing of it reaches the committed state.
        if (s.baseRev === null && s.doc === null) staged.delete(id);
      }
      for (const id of staged.keys()) {
        const current = coll.rows.get(id);
        if (!current) continue;
        for (const u of coll.uniques) {
          const key = coll.keyOf(u, current.doc);
          if (u.owners.get(key) === id) u.owners.delete(key);
        }
      }
      for (const [id, s] of staged) {
        coll.put(id, s.doc, ++this.revCounter);
        if (s.doc) for (const u of coll.uniques) u.owners.set(coll.keyOf(u, s.doc), id);
      }
    }
    for (const [key, row] of tx.inboxRows) this.inboxRows.set(key, row);
    for (const rec of tx.outboxRows) this.outbox.put(rec);
    this.pruneInbox();
    return tx.outboxRows.length > 0;
  }

  private pruneInbox(): void {
    const now = Date.now();
    if (now - this.lastInboxPrune < 1000) return;
    this.lastInboxPrune = now;
    // Map order is commit order, so the oldest records come first.
    for (const [key, row] of this.inboxRows) {
      if (now - row.processedAt.getTime() <= this.inboxRetentionMs) break;
      this.inboxRows.delete(key);
    }
  }

  /** @internal */
  hasInbox(key: string): boolean {
    return this.inboxRows.has(key);
  }

  read<T extends Versioned>(spec: CollectionSpec<T>): Pick<Repository<T>, 'get' | 'findOne' | 'find' | 'count'> {
    const coll = this.collection(spec.name);
    const all = (filter: Record<string, unknown>): Iterable<Doc> => {
      if (typeof filter.id === 'string') {
        const row = coll.rows.get(filter.id);
        return row ? [row.doc] : [];
      }
      return coll.committed();
    };
    const select = (filter: Record<string, unknown>, options: FindOptions | undefined): Doc[] => query(all(filter), filter, options);
    return {
      get: async (id) => {
        const row = coll.rows.get(id);
        return row ? cloneDoc(row.doc as unknown as T) : null;
      },
      findOne: async (filter, options) => {
        const [doc] = select(filter, { ...options, limit: 1 });
        return doc ? cloneDoc(doc as unknown as T) : null;
      },
      find: async (filter, options) => select(filter, options).map((d) => cloneDoc(d as unknown as T)),
      count: async (filter) => query(all(filter), filter).length,
    };
  }

  async isHealthy(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.outbox.clearListeners();
  }
}

class MemTransaction implements Transaction {
  /** collection → id → staged document (null = deleted), in staging order */
  readonly writes = new Map<string, Map<string, Staged>>();
  readonly inboxRows = new Map<string, InboxRow>();
  readonly outboxRows: OutboxRecord[] = [];
  /** The relay the rows are written leased to (null: unleased, for whoever claims them). */
  readonly fastPath: FastPath | null;
  /** An error that aborted this unit of work (as MongoDB aborts a transaction on a write error). */
  private doomed: Error | null = null;
  private done = false;
  readonly outbox: OutboxWriter;
  readonly inbox: Inbox;

  constructor(private readonly store: MemoryStore) {
    this.fastPath = store.outbox.signals.current();
    this.outbox = {
      add: async (envelope: Envelope, trace?: TraceContext) => {
        this.assertUsable();
        if (this.outboxRows.some((r) => r.id === envelope.id) || this.store.outbox.has(envelope.id)) {
          this.doom(new DuplicateKeyError('outbox', envelope.id));
        }
        this.outboxRows.push(outboxRecordOf(envelope, this.fastPath, trace));
      },
    };
    this.inbox = {
      record: async (consumer: string, messageId: string, type: string) => {
        this.assertUsable();
        const key = `${consumer}:${messageId}`;
        if (this.inboxRows.has(key) || this.store.hasInbox(key)) this.doom(new DuplicateMessageError(consumer, messageId));
        this.inboxRows.set(key, { consumer, messageId, type, processedAt: new Date() });
      },
    };
  }

  assertUsable(): void {
    if (this.doomed) throw this.doomed;
    if (this.done) throw new Error('this unit of work has already ended');
  }

  finish(): void {
    this.done = true;
  }

  doom(err: Error): never {
    this.doomed = err;
    throw err;
  }

  staged(collection: string): Map<string, Staged> {
    let m = this.writes.get(collection);
    if (!m) {
      m = new Map();
      this.writes.set(collection, m);
    }
    return m;
  }

  /** Committed documents overlaid with this unit of work's own writes, in natural order (only the one a plain id names). */
  view(coll: MemCollection, filter?: Record<string, unknown>): Iterable<Doc> {
    const id = filter?.id;
    if (typeof id === 'string') {
      const d = this.viewGet(coll, id);
      return d ? [d] : [];
    }
    const staged = this.writes.get(coll.name);
    if (!staged || staged.size === 0) return coll.committed();
    const out: Doc[] = [];
    for (const [rowId, row] of coll.rows) {
      const st = staged.get(rowId);
      if (!st) out.push(row.doc);
      else if (st.doc) out.push(st.doc);
    }
    for (const [stagedId, st] of staged) if (st.doc && !coll.rows.has(stagedId)) out.push(st.doc);
    return out;
  }

  select(coll: MemCollection, filter: Record<string, unknown>, options?: FindOptions): Doc[] {
    return query(this.view(coll, filter), filter, options);
  }

  viewGet(coll: MemCollection, id: string): Doc | null {
    const s = this.writes.get(coll.name)?.get(id);
    if (s) return s.doc;
    return coll.rows.get(id)?.doc ?? null;
  }

  /** Stages `doc` (or a deletion) for `id`, remembering the committed revision it builds on. */
  stage(coll: MemCollection, id: string, doc: Doc | null): void {
    const staged = this.staged(coll.name);
    const prev = staged.get(id);
    const baseRev = prev ? prev.baseRev : (coll.rows.get(id)?.rev ?? null);
    if (doc) this.checkUnique(coll, id, doc);
    staged.set(id, { doc, baseRev });
  }

  private checkUnique(coll: MemCollection, id: string, doc: Doc): void {
    for (const u of coll.uniques) {
      const key = coll.keyOf(u, doc);
      const owner = u.owners.get(key);
      if (owner !== undefined && owner !== id) {
        const ownerDoc = this.viewGet(coll, owner);
        if (ownerDoc && coll.keyOf(u, ownerDoc) === key) this.doom(new DuplicateKeyError(coll.name, key));
      }
      for (const [otherId, s] of this.writes.get(coll.name) ?? []) {
        if (otherId !== id && s.doc && coll.keyOf(u, s.doc) === key) this.doom(new DuplicateKeyError(coll.name, key));
      }
    }
  }

  repo<T extends Versioned>(spec: CollectionSpec<T>): Repository<T> {
    const coll = this.store.collection(spec.name);
    const out = (d: Doc): T => cloneDoc(d) as unknown as T;
    const usable = (): void => this.assertUsable();
    const updateFirst = (candidates: Doc[], set: Partial<T>): T | null => {
      const target = candidates[0];
      if (!target) return null;
      const next = applySet(target, set as Record<string, unknown>);
      next.version = (target.version as number) + 1;
      this.stage(coll, target.id as string, next);
      return out(next);
    };
    return {
      get: async (id) => {
        usable();
        const d = this.viewGet(coll, id);
        return d ? out(d) : null;
      },
      findOne: async (filter, options) => {
        usable();
        const [d] = this.select(coll, filter, { ...options, limit: 1 });
        return d ? out(d) : null;
      },
      find: async (filter, options) => {
        usable();
        return this.select(coll, filter, options).map(out);
      },
      count: async (filter) => {
        usable();
        return query(this.view(coll, filter), filter).length;
      },
      insert: async (doc) => {
        usable();
        const stored = cloneDoc(doc) as unknown as Doc;
        if (this.viewGet(coll, doc.id)) this.doom(new DuplicateKeyError(spec.name, `id ${doc.id}`));
        this.stage(coll, doc.id, stored);
        return out(stored);
      },
      insertMany: async (docs) => {
        const repo = this.repo(spec);
        const stored: T[] = [];
        for (const doc of docs) stored.push(await repo.insert(doc));
        return stored;
      },
      update: async (doc) => {
        usable();
        const current = this.viewGet(coll, doc.id);
        if (!current || current.version !== doc.version) throw new ConcurrencyError(spec.name, doc.id, doc.version);
        const stored = cloneDoc(doc) as unknown as Doc;
        stored.version = doc.version + 1;
        this.stage(coll, doc.id, stored);
        return out(stored);
      },
      updateAll: async (docs) => {
        const repo = this.repo(spec);
        const stored: T[] = [];
        for (const doc of docs) stored.push(await repo.update(doc));
        return stored;
      },
      findOneAndUpdate: async (filter: Filter<T>, set: Partial<T>, options?: { sort?: Sort[] }) => {
        usable();
        return updateFirst(this.select(coll, filter, { sort: options?.sort, limit: 1 }), set);
      },
      findNearestAndUpdate: async (filter: Filter<T>, near: NearQuery, set: Partial<T>) => {
        usable();
        const found = nearest(query(this.view(coll, filter), filter), near);
        return updateFirst(found ? [found] : [], set);
      },
      deleteMany: async (filter) => {
        usable();
        const victims = query(this.view(coll, filter), filter);
        for (const d of victims) this.stage(coll, d.id as string, null);
        return victims.length;
      },
    };
  }
}

/** The document nearest the point within `near.maxDistanceMeters` (the first in natural order on a tie): one pass, no sort. */
function nearest(docs: Doc[], near: NearQuery): Doc | undefined {
  let best: Doc | undefined;
  let bestDistance = Infinity;
  for (const doc of docs) {
    const c = pointCoordinates(getPath(doc, near.field));
    if (!c) continue;
    const d = haversineMeters(near.from.lng, near.from.lat, c[0], c[1]);
    if (d <= near.maxDistanceMeters && d < bestDistance) {
      best = doc;
      bestDistance = d;
    }
  }
  return best;
}

class MemoryOutbox extends SignalledOutbox implements OutboxStore {
  private readonly pending = new Map<string, OutboxRecord>();
  /** In dispatch order, so pruning stops at the first young row. */
  private readonly dispatched = new Map<string, OutboxRecord>();

  constructor(private readonly retentionMs: number) {
    super();
  }

  has(id: string): boolean {
    return this.pending.has(id) || this.dispatched.has(id);
  }

  put(rec: OutboxRecord): void {
    this.pending.set(rec.id, rec);
  }

  async claim(relayId: string, batchSize: number, leaseMs: number): Promise<OutboxRecord[]> {
    const now = Date.now();
    const free: OutboxRecord[] = [];
    for (const r of this.pending.values()) if (r.lockedUntil === null || r.lockedUntil.getTime() < now) free.push(r);
    free.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    const batch = free.slice(0, Math.max(0, batchSize));
    for (const r of batch) {
      r.lockedBy = relayId;
      r.lockedUntil = new Date(now + leaseMs);
    }
    return batch.map((r) => cloneDoc(r));
  }

  async markDispatched(relayId: string, ids: string[]): Promise<void> {
    const now = new Date();
    for (const id of ids) {
      const r = this.pending.get(id);
      if (!r || r.lockedBy !== relayId) continue;
      r.status = 'DISPATCHED';
      r.dispatchedAt = now;
      this.pending.delete(id);
      this.dispatched.set(id, r);
    }
    this.prune(now.getTime());
  }

  async release(relayId: string, ids: string[], retryAfterMs: number): Promise<void> {
    const until = new Date(Date.now() + retryAfterMs);
    for (const id of ids) {
      const r = this.pending.get(id);
      if (!r || r.lockedBy !== relayId) continue;
      r.attempts += 1;
      r.lockedBy = null;
      r.lockedUntil = until;
    }
  }

  async stats(): Promise<OutboxStats> {
    let oldest: Date | null = null;
    for (const r of this.pending.values()) if (!oldest || r.occurredAt < oldest) oldest = r.occurredAt;
    return { pending: this.pending.size, oldestPendingAt: oldest ? new Date(oldest.getTime()) : null };
  }

  private prune(now: number): void {
    for (const [id, r] of this.dispatched) {
      if (r.dispatchedAt && now - r.dispatchedAt.getTime() <= this.retentionMs) break;
      this.dispatched.delete(id);
    }
  }
}
