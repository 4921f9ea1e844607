// The store port: a unit of work giving repositories, the outbox and the inbox; both adapters implement it.
import type { Envelope } from '../envelope';
import type { EventType, Point } from '../events';
import type { TraceContext } from '../tracing';

/** Every stored aggregate has a string id and an optimistic-concurrency version. */
export interface Versioned {
  id: string;
  version: number;
}

/** A field condition of the small query language both adapters understand. */
export type Condition<V> =
  V | null | { $eq?: V | null; $ne?: V | null; $in?: (V | null)[]; $lt?: V; $lte?: V; $gt?: V; $gte?: V; $exists?: boolean };

/** Equality / range conditions on top-level fields (dotted paths allowed as string keys), ANDed. */
export type Filter<T> = { [K in keyof T]?: Condition<T[K]> } & Record<string, unknown>;

export interface Sort {
  field: string;
  direction: 1 | -1;
}

export interface FindOptions {
  sort?: Sort[];
  limit?: number;
}

export interface NearQuery {
  /** A field holding a GeoJSON Point `{type:'Point', coordinates:[lng, lat]}`, with a 2dsphere index. */
  field: string;
  /** The centre, in the API's one point type. */
  from: Point;
  maxDistanceMeters: number;
}

export interface Repository<T extends Versioned> {
  get(id: string): Promise<T | null>;
  findOne(filter: Filter<T>, options?: FindOptions): Promise<T | null>;
  find(filter: Filter<T>, options?: FindOptions): Promise<T[]>;
  count(filter: Filter<T>): Promise<number>;
  /** Inserts a new document (its `version` is kept as given, normally 1). DuplicateKeyError on a taken id or unique key. */
  insert(doc: T): Promise<T>;
  /** Inserts several new documents in one round trip; a taken id aborts the unit of work as `insert` does. */
  insertMany(docs: T[]): Promise<T[]>;
  /**
   * Replaces a document whose stored version equals `doc.version`, writing `version + 1`.
   * Throws ConcurrencyError when someone else changed it first; returns the stored document.
   */
  update(doc: T): Promise<T>;
  /** `update` for several documents in one round trip: all of them, or ConcurrencyError (and the unit of work runs again). */
  updateAll(docs: T[]): Promise<T[]>;
  /** One atomic conditional update: the first match (by `sort`) gets `set` and `version + 1`; null when none matched. */
  findOneAndUpdate(filter: Filter<T>, set: Partial<T>, options?: { sort?: Sort[] }): Promise<T | null>;
  /** One atomic conditional update of the nearest match within range (MongoDB: `$near` on a 2dsphere index). */
  findNearestAndUpdate(filter: Filter<T>, near: NearQuery, set: Partial<T>): Promise<T | null>;
  deleteMany(filter: Filter<T>): Promise<number>;
}

export type IndexDirection = 1 | -1 | '2dsphere';

export interface IndexSpec {
  fields: Record<string, IndexDirection>;
  unique?: boolean;
  expireAfterSeconds?: number;
  name?: string;
}

/** A collection a service owns; adapters create it and its indexes at startup, before any transaction. */
export interface CollectionSpec<T extends Versioned = Versioned> {
  name: string;
  indexes?: IndexSpec[];
  /** Phantom type carrier so `tx.repo(spec)` is typed; never set at runtime. */
  readonly __type?: T;
}

export function defineCollection<T extends Versioned>(name: string, indexes: IndexSpec[] = []): CollectionSpec<T> {
  return { name, indexes };
}

export type OutboxStatus = 'PENDING' | 'DISPATCHED';

/** The outbox row of DESIGN §5; `headers` carry the rest of the envelope so the relay can rebuild it exactly. */
export interface OutboxRecord {
  id: string;
  type: EventType;
  exchange: string;
  routingKey: string;
  headers: {
    version: number;
    source: string;
    correlationId: string;
    causationId?: string;
    /** W3C trace context of the work that emitted it (DESIGN §4). */
    traceparent?: string;
    tracestate?: string;
  };
  payload: unknown;
  occurredAt: Date;
  status: OutboxStatus;
  attempts: number;
  lockedBy: string | null;
  lockedUntil: Date | null;
  dispatchedAt: Date | null;
}

export interface OutboxWriter {
  /** Records an event to publish; it becomes visible (and is relayed) only if the unit of work commits. */
  add(envelope: Envelope, trace?: TraceContext): Promise<void>;
}

export interface Inbox {
  /**
   * Records that `consumer` processed `messageId`. On a duplicate it throws DuplicateMessageError, which must leave
   * the unit of work (aborting it) and is treated outside as "already processed" (DESIGN §5, DRIVERS-2584).
   */
  record(consumer: string, messageId: string, type: string): Promise<void>;
}

export interface Transaction {
  repo<T extends Versioned>(spec: CollectionSpec<T>): Repository<T>;
  outbox: OutboxWriter;
  inbox: Inbox;
}

/** What a service's repositories read through: a unit of work (its own view) or the store outside any (HTTP reads). */
export type ReadSource = Transaction | Pick<Store, 'read'>;

export type Reader<T extends Versioned> = Pick<Repository<T>, 'get' | 'findOne' | 'find' | 'count'>;

/** The reads of `spec` from either source, so one repository method serves a handler's unit of work and a GET alike. */
export function readerOf<T extends Versioned>(source: ReadSource, spec: CollectionSpec<T>): Reader<T> {
  return 'repo' in source ? source.repo(spec) : source.read(spec);
}

export interface RunOptions {
  /** Attempts on ConcurrencyError before giving up (default 5). */
  maxAttempts?: number;
}

export interface OutboxStats {
  pending: number;
  oldestPendingAt: Date | null;
}

/**
 * The relay of this process, taking the rows of local commits straight from memory (DESIGN §5, the fast path): the
 * store writes them already leased to `relayId` for `leaseMs`, so no other relay claims them meanwhile, and hands them
 * over after the commit. What the fast path misses (a crash, a lost connection) is claimed once the lease expires.
 */
export interface FastPath {
  relayId: string;
  leaseMs: number;
  committed(rows: OutboxRecord[]): void;
}

/** What the relay needs from the store. Claims are leases: an expired lease lets another relay take the rows. */
export interface OutboxStore {
  /** Hands the rows of every later local commit to this relay (one per store); returns the detach function. */
  attachFastPath(fastPath: FastPath): () => void;
  claim(relayId: string, batchSize: number, leaseMs: number): Promise<OutboxRecord[]>;
  markDispatched(relayId: string, ids: string[]): Promise<void>;
  /** Gives rows back after a failed publish: attempts + 1, lease cleared after `retryAfterMs`. */
  release(relayId: string, ids: string[], retryAfterMs: number): Promise<void>;
  stats(): Promise<OutboxStats>;
  /** Called after every commit that added outbox rows (in this process, or via a change stream): wakes the relay. */
  onNewMessages(listener: () => void): () => void;
}

export interface Store {
  readonly kind: 'memory' | 'mongodb';
  /** A description safe to log (no credentials). */
  readonly description: string;
  /** Connects and creates collections and indexes (outbox and inbox included); idempotent. */
  init(collections: CollectionSpec[]): Promise<void>;
  /** Runs `work` in one transaction: all of it commits or none. Retries the whole work on ConcurrencyError. */
  run<R>(work: (tx: Transaction) => Promise<R>, options?: RunOptions): Promise<R>;
  /** Reads outside a transaction (queries for HTTP GETs). */
  read<T extends Versioned>(spec: CollectionSpec<T>): Reader<T>;
  readonly outbox: OutboxStore;
  isHealthy(): Promise<boolean>;
  close(): Promise<void>;
}
