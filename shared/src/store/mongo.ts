// The MongoDB store adapter: a dedicated mongoose connection, native sessions and withTransaction, outbox and inbox collections.
import { SignalledOutbox } from './outboxSignals';
import { randomUUID } from 'node:crypto';
import mongoose from 'mongoose';
import { AppError, ConcurrencyError, DuplicateKeyError, DuplicateMessageError } from '../errors';
import type { Envelope } from '../envelope';
import type { TraceContext } from '../tracing';
import { errorMessage, type Logger } from '../logger';
import type {
  CollectionSpec,
  Filter,
  FastPath,
  FindOptions,
  Inbox,
  IndexSpec,
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
import { backoffDelay, cleanSet, sleep, type Doc } from './query';
import { outboxRecordOf } from '../wire';

type Db = mongoose.mongo.Db;
type ClientSession = mongoose.mongo.ClientSession;
/** A stored document: the domain `id` lives in `_id`. */
interface StoredDoc {
  _id: string;
  [field: string]: unknown;
}
type MongoFilter = mongoose.mongo.Filter<StoredDoc>;
type ChangeStream = mongoose.mongo.ChangeStream;

export interface MongoStoreOptions {
  url: string;
  dbName: string;
  logger?: Logger;
  /** TTL of DISPATCHED outbox rows (default 7 days). */
  outboxRetentionSeconds?: number;
  /** TTL of inbox records (default 30 days); must exceed how long a duplicate can still arrive. */
  inboxRetentionSeconds?: number;
  /** Also wake the relay from a change stream on the outbox (a doorbell only; polling stays the fallback). */
  changeStreamDoorbell?: boolean;
  /** Default attempts of `run()` on ConcurrencyError (default 5). */
  maxAttempts?: number;
  /** Server selection timeout of the connection (default 10 s). */
  serverSelectionTimeoutMS?: number;
}

export const OUTBOX_COLLECTION = 'outbox';
export const INBOX_COLLECTION = 'inbox';
const DEFAULT_OUTBOX_RETENTION_S = 7 * 24 * 3600;
const DEFAULT_INBOX_RETENTION_S = 30 * 24 * 3600;
const HEALTH_TIMEOUT_MS = 1_000;

/** What a failed write was about, so the error can be converted after it left the transaction. */
interface WriteTarget {
  collection: string;
  inbox?: { consumer: string; messageId: string };
}
const writeTargets = new WeakMap<object, WriteTarget>();

function errorCode(err: unknown): unknown {
  return err !== null && typeof err === 'object' && 'code' in err ? (err as { code: unknown }).code : undefined;
}

/** Turns a duplicate-key server error (code 11000) into the port's errors; runs OUTSIDE withTransaction (DRIVERS-2584). */
function convertError(err: unknown): unknown {
  if (err instanceof AppError || errorCode(err) !== 11000 || err === null || typeof err !== 'object') return err;
  const target = writeTargets.get(err);
  if (target?.inbox) return new DuplicateMessageError(target.inbox.consumer, target.inbox.messageId);
  const keyValue = (err as { keyValue?: unknown }).keyValue;
  const key = keyValue !== undefined ? JSON.stringify(keyValue) : errorMessage(err);
  return new DuplicateKeyError(target?.collection ?? 'unknown', key);
}

/** Domain `id` ↔ stored `_id`: documents never show `_id` to callers. */
function toStored(doc: Doc): StoredDoc {
  const { id, ...rest } = doc;
  return { ...rest, _id: String(id) };
}

function fromStored<T>(raw: StoredDoc | Doc | null | undefined): T | null {
  if (!raw) return null;
  const { _id, ...rest } = raw;
  return { id: _id, ...rest } as T;
}

function mapField(field: string): string {
  return field === 'id' ? '_id' : field;
}

function toMongoFilter(filter: Filter<Doc> | Record<string, unknown>): MongoFilter {
  const out: Doc = {};
  for (const [k, v] of Object.entries(filter)) if (v !== undefined) out[mapField(k)] = v;
  return out as MongoFilter;
}

function toMongoSort(sort: Sort[] | undefined): Record<string, 1 | -1> | undefined {
  if (!sort || sort.length === 0) return undefined;
  const out: Record<string, 1 | -1> = {};
  for (const s of sort) out[mapField(s.field)] = s.direction;
  return out;
}

/** `$set` the given fields (an `undefined` value unsets one) and bump the version, in one update. */
function toUpdate(set: Record<string, unknown>): mongoose.mongo.UpdateFilter<StoredDoc> {
  const $set: Doc = {};
  const $unset: Record<string, ''> = {};
  for (const [k, v] of Object.entries(cleanSet(set))) {
    if (v === undefined) $unset[k] = '';
    else $set[k] = v;
  }
  const update: Doc = { $inc: { version: 1 } };
  if (Object.keys($set).length > 0) update.$set = $set;
  if (Object.keys($unset).length > 0) update.$unset = $unset;
  return update as mongoose.mongo.UpdateFilter<StoredDoc>;
}

function indexKeys(fields: IndexSpec['fields']): Record<string, 1 | -1 | '2dsphere'> {
  const out: Record<string, 1 | -1 | '2dsphere'> = {};
  for (const [k, v] of Object.entries(fields)) out[mapField(k)] = v;
  return out;
}

/** MongoDB's own default index name (`a_1_b_-1`), so a TTL change can address the index by name. */
function defaultIndexName(keys: Record<string, 1 | -1 | '2dsphere'>): string {
  return Object.entries(keys)
    .map(([k, v]) => `${k}_${v}`)
    .join('_');
}

/** The URL without credentials, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

export class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly description: string;
  readonly outbox: MongoOutbox;
  private conn: mongoose.Connection | null = null;
  private connecting: Promise<Db> | null = null;
  private outboxChanges: ChangeStream | null = null;
  private readonly outboxRetentionSeconds: number;
  private readonly inboxRetentionSeconds: number;
  private readonly maxAttempts: number;
  private closed = false;

  constructor(private readonly options: MongoStoreOptions) {
    this.description = `MongoDB ${redact(options.url)} database ${options.dbName}`;
    this.outboxRetentionSeconds = options.outboxRetentionSeconds ?? DEFAULT_OUTBOX_RETENTION_S;
    this.inboxRetentionSeconds = options.inboxRetentionSeconds ?? DEFAULT_INBOX_RETENTION_S;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.outbox = new MongoOutbox(() => this.db());
  }

  /** The connected database; the first call opens the connection (the driver reconnects by itself afterwards). */
  private db(): Promise<Db> {
    if (this.closed) return Promise.reject(new Error('store is closed'));
    if (!this.connecting) {
      const conn = mongoose.createConnection(this.options.url, {
        dbName: this.options.dbName,
        ignoreUndefined: true,
        serverSelectionTimeoutMS: this.options.serverSelectionTimeoutMS ?? 10_000,
        autoIndex: false,
        autoCreate: false,
      });
      this.conn = conn;
      this.connecting = conn.asPromise().then(
        (c) => {
          if (!c.db) throw new Error('mongoose connection has no database handle');
          return c.db;
        },
        (err: unknown) => {
          // A failed first connect may be retried by a later call (e.g. /readyz or a restart loop).
          this.connecting = null;
          this.conn = null;
          void conn
            .close()
            .catch((closeErr: unknown) =>
              this.options.logger?.warn('closing a failed connection failed', { error: errorMessage(closeErr) }),
            );
          throw err;
        },
      );
    }
    return this.connecting;
  }

  async init(collections: CollectionSpec[]): Promise<void> {
    const db = await this.db();
    const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    const names = [...new Set([...collections.map((c) => c.name), OUTBOX_COLLECTION, INBOX_COLLECTION])];
    // Collections exist before any transaction: creating one inside a transaction may conflict on a real server.
    for (const name of names) {
      if (existing.has(name)) continue;
      try {
        await db.createCollection(name);
      } catch (err) {
        if (errorCode(err) !== 48) throw err; // NamespaceExists: another replica created it meanwhile
      }
    }
    for (const spec of collections) {
      for (const index of spec.indexes ?? []) {
        const keys = indexKeys(index.fields);
        if (Object.keys(keys).length === 1 && keys._id !== undefined) continue; // _id is always indexed and unique
        await this.ensureIndex(db, spec.name, keys, {
          unique: index.unique,
          expireAfterSeconds: index.expireAfterSeconds,
          name: index.name ?? defaultIndexName(keys),
        });
      }
    }
    // The claim asks for PENDING rows oldest first: walking {status, occurredAt} yields them in order and stops at the
    // batch size (the lease condition is a residual filter), where a lockedUntil-second index needs a blocking sort.
    await this.ensureIndex(db, OUTBOX_COLLECTION, { status: 1, occurredAt: 1 }, { name: 'status_occurredAt' });
    await this.ensureIndex(db, OUTBOX_COLLECTION, { leaseToken: 1 }, { name: 'leaseToken' });
    await this.ensureIndex(
      db,
      OUTBOX_COLLECTION,
      { dispatchedAt: 1 },
      { name: 'dispatchedAt_ttl', expireAfterSeconds: this.outboxRetentionSeconds },
    );
    await this.ensureIndex(
      db,
      INBOX_COLLECTION,
      { processedAt: 1 },
      { name: 'processedAt_ttl', expireAfterSeconds: this.inboxRetentionSeconds },
    );
    if (this.options.changeStreamDoorbell && !this.outboxChanges) this.startDoorbell(db);
  }

  private async ensureIndex(
    db: Db,
    collection: string,
    keys: Record<string, 1 | -1 | '2dsphere'>,
    options: { unique?: boolean; expireAfterSeconds?: number; name?: string },
  ): Promise<void> {
    const opts: mongoose.mongo.CreateIndexesOptions = {};
    if (options.unique) opts.unique = true;
    if (options.expireAfterSeconds !== undefined) opts.expireAfterSeconds = options.expireAfterSeconds;
    if (options.name) opts.name = options.name;
    try {
      await db.collection(collection).createIndex(keys, opts);
    } catch (err) {
      // IndexOptionsConflict on a TTL index: the retention changed since it was created, so adjust it in place.
      if (errorCode(err) === 85 && options.expireAfterSeconds !== undefined && options.name) {
        await db.command({ collMod: collection, index: { name: options.name, expireAfterSeconds: options.expireAfterSeconds } });
        return;
      }
      throw err;
    }
  }

  private startDoorbell(db: Db): void {
    const logger = this.options.logger;
    try {
      const stream = db.collection(OUTBOX_COLLECTION).watch([{ $match: { operationType: 'insert' } }]);
      this.outboxChanges = stream;
      stream.on('change', () => this.outbox.notify());
      stream.on('error', (err: unknown) => {
        logger?.warn('outbox change stream failed; the relay falls back to polling', { error: errorMessage(err) });
        if (this.outboxChanges === stream) this.outboxChanges = null;
        stream
          .close()
          .catch((closeErr: unknown) => logger?.warn('closing the outbox change stream failed', { error: errorMessage(closeErr) }));
      });
    } catch (err) {
      logger?.warn('outbox change stream unavailable; the relay polls', { error: errorMessage(err) });
    }
  }

  async run<R>(work: (tx: Transaction) => Promise<R>, options: RunOptions = {}): Promise<R> {
    const db = await this.db();
    const client = this.conn!.getClient();
    const maxAttempts = Math.max(1, options.maxAttempts ?? this.maxAttempts);
    for (let attempt = 1; ; attempt++) {
      const session = client.startSession();
      let committed: MongoTransaction | null = null;
      try {
        // withTransaction itself re-runs the callback on TransientTransactionError (e.g. WriteConflict).
        const result = await session.withTransaction(
          async (s) => {
            const tx = new MongoTransaction(db, s, this.outbox.signals.current());
            const value = await work(tx);
            // The work swallowed a failed write: the server already aborted this transaction, so do not commit.
            if (tx.failure !== null) throw tx.failure;
            // Every event of the unit of work in one insert, just before the commit.
            await tx.flushOutbox();
            committed = tx;
            return value;
          },
          { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' }, readPreference: 'primary' },
        );
        const tx = committed as MongoTransaction | null;
        if (tx !== null) this.outbox.signals.committed(tx.outboxRows, tx.fastPath);
        return result;
      } catch (err) {
        const converted = convertError(err);
        if (converted instanceof ConcurrencyError && attempt < maxAttempts) {
          await sleep(backoffDelay(attempt, 5));
          continue;
        }
        throw converted;
      } finally {
        await session.endSession();
      }
    }
  }

  read<T extends Versioned>(spec: CollectionSpec<T>): Pick<Repository<T>, 'get' | 'findOne' | 'find' | 'count'> {
    const coll = async () => (await this.db()).collection<StoredDoc>(spec.name);
    return {
      get: async (id) => fromStored<T>(await (await coll()).findOne({ _id: id })),
      findOne: async (filter, options) =>
        fromStored<T>(await (await coll()).findOne(toMongoFilter(filter), { sort: toMongoSort(options?.sort) })),
      find: async (filter, options) => {
        const docs = await (await coll()).find(toMongoFilter(filter), findOptions(options)).toArray();
        return docs.map((d) => fromStored<T>(d)!);
      },
      count: async (filter) => (await coll()).countDocuments(toMongoFilter(filter)),
    };
  }

  async isHealthy(): Promise<boolean> {
    if (this.closed || !this.connecting) return false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const db = await this.db();
      const ping = db.command({ ping: 1 }).then(() => true);
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), HEALTH_TIMEOUT_MS);
      });
      return await Promise.race([ping, timeout]);
    } catch (err) {
      this.options.logger?.debug('MongoDB health check failed', { error: errorMessage(err) });
      return false;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** Drops the whole database: for tests that made a database of their own. */
  async dropDatabase(): Promise<void> {
    await (await this.db()).dropDatabase();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.outbox.clearListeners();
    const stream = this.outboxChanges;
    this.outboxChanges = null;
    if (stream) await stream.close();
    const conn = this.conn;
    this.conn = null;
    this.connecting = null;
    if (conn) await conn.close();
  }
}

function findOptions(options: FindOptions | undefined): mongoose.mongo.FindOptions {
  const out: mongoose.mongo.FindOptions = {};
  const sort = toMongoSort(options?.sort);
  if (sort) out.sort = sort;
  if (options?.limit !== undefined && options.limit > 0) out.limit = options.limit;
  return out;
}

class MongoTransaction implements Transaction {
  /** The first failed server write: MongoDB aborted the transaction with it, so nothing may commit after it. */
  failure: unknown = null;
  /** The events of this unit of work, written by `flushOutbox()` in one insert. */
  readonly outboxRows: OutboxRecord[] = [];
  readonly outbox: OutboxWriter;
  readonly inbox: Inbox;

  constructor(
    private readonly db: Db,
    private readonly session: ClientSession,
    /** The relay the rows are written leased to (null: unleased, for whoever claims them). */
    readonly fastPath: FastPath | null,
  ) {
    this.outbox = {
      add: async (envelope: Envelope, trace?: TraceContext) => {
        if (this.outboxRows.some((r) => r.id === envelope.id)) {
          throw new DuplicateKeyError(OUTBOX_COLLECTION, JSON.stringify({ _id: envelope.id }));
        }
        this.outboxRows.push(outboxRecordOf(envelope, this.fastPath, trace));
      },
    };
    this.inbox = {
      record: async (consumer: string, messageId: string, type: string) => {
        const doc = { _id: `${consumer}:${messageId}`, consumer, messageId, type, processedAt: new Date() };
        await this.write({ collection: INBOX_COLLECTION, inbox: { consumer, messageId } }, () =>
          this.db.collection<StoredDoc>(INBOX_COLLECTION).insertOne(doc, { session: this.session }),
        );
      },
    };
  }

  async flushOutbox(): Promise<void> {
    if (this.outboxRows.length === 0) return;
    const docs = this.outboxRows.map(({ id, ...rest }) => ({ ...rest, _id: id }));
    await this.write({ collection: OUTBOX_COLLECTION }, () =>
      this.db.collection<StoredDoc>(OUTBOX_COLLECTION).insertMany(docs, { session: this.session }),
    );
  }

  /**
   * Runs one server operation of this transaction. A failure is remembered and rethrown unchanged: it must leave the
   * withTransaction callback (DRIVERS-2584); it is converted to the port's errors outside.
   */
  async write<R>(target: WriteTarget, op: () => Promise<R>): Promise<R> {
    if (this.failure !== null) throw this.failure;
    try {
      return await op();
    } catch (err) {
      this.failure = err;
      if (err !== null && typeof err === 'object') writeTargets.set(err, target);
      throw err;
    }
  }

  repo<T extends Versioned>(spec: CollectionSpec<T>): Repository<T> {
    const coll = this.db.collection<StoredDoc>(spec.name);
    const session = this.session;
    const target: WriteTarget = { collection: spec.name };
    const op = <R>(fn: () => Promise<R>): Promise<R> => this.write(target, fn);
    return {
      get: async (id) => fromStored<T>(await op(() => coll.findOne({ _id: id }, { session }))),
      findOne: async (filter, options) =>
        fromStored<T>(await op(() => coll.findOne(toMongoFilter(filter), { session, sort: toMongoSort(options?.sort) }))),
      find: async (filter, options) => {
        const docs = await op(() => coll.find(toMongoFilter(filter), { ...findOptions(options), session }).toArray());
        return docs.map((d) => fromStored<T>(d)!);
      },
      count: async (filter) => op(() => coll.countDocuments(toMongoFilter(filter), { session })),
      insert: async (doc) => {
        await op(() => coll.insertOne(toStored(doc as unknown as Doc), { session }));
        return structuredCloneJson(doc);
      },
      insertMany: async (docs) => {
        if (docs.length === 0) return [];
        await op(() =>
          coll.insertMany(
            docs.map((d) => toStored(d as unknown as Doc)),
            { session },
          ),
        );
        return docs.map((d) => structuredCloneJson(d));
      },
      update: async (doc) => {
        const next = { ...(doc as unknown as Doc), version: doc.version + 1 };
        const res = await op(() => coll.replaceOne({ _id: doc.id, version: doc.version }, toStored(next), { session }));
        if (res.matchedCount === 0) throw new ConcurrencyError(spec.name, doc.id, doc.version);
        return structuredCloneJson(next as unknown as T);
      },
      updateAll: async (docs) => {
        if (docs.length === 0) return [];
        const next = docs.map((doc) => ({ ...(doc as unknown as Doc), version: doc.version + 1 }));
        const res = await op(() =>
          coll.bulkWrite(
            docs.map((doc, i) => ({
              replaceOne: { filter: { _id: doc.id, version: doc.version }, replacement: toStored(next[i] as Doc) },
            })),
            { session, ordered: true },
          ),
        );
        if (res.matchedCount !== docs.length) {
          // Which one moved is not said by the server; the unit of work runs again either way.
          throw new ConcurrencyError(spec.name, docs.map((d) => d.id).join(','), -1);
        }
        return next.map((d) => structuredCloneJson(d as unknown as T));
      },
      findOneAndUpdate: async (filter: Filter<T>, set: Partial<T>, options?: { sort?: Sort[] }) => {
        const sort = toMongoSort(options?.sort);
        const raw = await op(() =>
          coll.findOneAndUpdate(toMongoFilter(filter), toUpdate(set as Record<string, unknown>), {
            session,
            returnDocument: 'after',
            ...(sort ? { sort } : {}),
          }),
        );
        return fromStored<T>(raw);
      },
      findNearestAndUpdate: async (filter: Filter<T>, near: NearQuery, set: Partial<T>) => {
        const query: Doc = {
          ...toMongoFilter(filter),
          [near.field]: {
            $near: { $geometry: { type: 'Point', coordinates: [near.from.lng, near.from.lat] }, $maxDistance: near.maxDistanceMeters },
          },
        };
        const raw = await op(() =>
          coll.findOneAndUpdate(query as MongoFilter, toUpdate(set as Record<string, unknown>), { session, returnDocument: 'after' }),
        );
        return fromStored<T>(raw);
      },
      deleteMany: async (filter) => (await op(() => coll.deleteMany(toMongoFilter(filter), { session }))).deletedCount,
    };
  }
}

/** A copy of what was stored, as a read would return it (undefined fields dropped, like the driver's ignoreUndefined). */
function structuredCloneJson<T>(doc: T): T {
  const copy = structuredClone(doc) as unknown as Doc;
  for (const [k, v] of Object.entries(copy)) if (v === undefined) delete copy[k];
  return copy as unknown as T;
}

interface StoredOutbox extends Omit<OutboxRecord, 'id'> {
  _id: string;
  leaseToken?: string;
}

function toRecord(raw: StoredOutbox): OutboxRecord {
  const { _id, leaseToken: _token, ...rest } = raw;
  return { id: _id, ...rest };
}

class MongoOutbox extends SignalledOutbox implements OutboxStore {
  constructor(private readonly db: () => Promise<Db>) {
    super();
  }

  private async coll(): Promise<mongoose.mongo.Collection<StoredOutbox>> {
    return (await this.db()).collection<StoredOutbox>(OUTBOX_COLLECTION);
  }

  async claim(relayId: string, batchSize: number, leaseMs: number): Promise<OutboxRecord[]> {
    if (batchSize <= 0) return [];
    const coll = await this.coll();
    const now = new Date();
    const free: mongoose.mongo.Filter<StoredOutbox> = { status: 'PENDING', $or: [{ lockedUntil: null }, { lockedUntil: { $lt: now } }] };
    const candidates = await coll.find(free, { sort: { occurredAt: 1 }, limit: batchSize }).toArray();
    if (candidates.length === 0) return [];
    // The same condition again in the update, and a token unique to this claim: two relays never get one row.
    const token = randomUUID();
    const lockedUntil = new Date(now.getTime() + leaseMs);
    const claimed = await coll.updateMany(
      { ...free, _id: { $in: candidates.map((c) => c._id) } },
      { $set: { lockedBy: relayId, lockedUntil, leaseToken: token } },
    );
    // Uncontended (the usual case): every candidate is ours, and what we read is what we locked; no second read.
    if (claimed.modifiedCount === candidates.length) {
      return candidates.map((row) => toRecord({ ...row, lockedBy: relayId, lockedUntil }));
    }
    const rows = await coll.find({ leaseToken: token }, { sort: { occurredAt: 1 } }).toArray();
    return rows.map(toRecord);
  }

  async markDispatched(relayId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const coll = await this.coll();
    await coll.updateMany(
      { _id: { $in: ids }, lockedBy: relayId, status: 'PENDING' },
      { $set: { status: 'DISPATCHED', dispatchedAt: new Date() } },
    );
  }

  async release(relayId: string, ids: string[], retryAfterMs: number): Promise<void> {
    if (ids.length === 0) return;
    const coll = await this.coll();
    await coll.updateMany(
      { _id: { $in: ids }, lockedBy: relayId, status: 'PENDING' },
      { $inc: { attempts: 1 }, $set: { lockedBy: null, lockedUntil: new Date(Date.now() + retryAfterMs) } },
    );
  }

  async stats(): Promise<OutboxStats> {
    const coll = await this.coll();
    const pending = await coll.countDocuments({ status: 'PENDING' });
    const oldest =
      pending === 0 ? null : await coll.findOne({ status: 'PENDING' }, { sort: { occurredAt: 1 }, projection: { occurredAt: 1 } });
    return { pending, oldestPendingAt: oldest ? oldest.occurredAt : null };
  }
}
