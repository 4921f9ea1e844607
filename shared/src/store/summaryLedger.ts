// Per-person summaries kept from one ledger row per trip change, folded in shortly after: no person's rides contend on one document (DESIGN §9).
import { randomUUID } from 'node:crypto';
import { errorMessage, type Logger } from '../logger';
import { defineCollection, type CollectionSpec, type Filter, type Repository, type Store, type Transaction, type Versioned } from './port';

/**
 * What one trip change moves in its owner's summary: the trip's contribution before (`sub`) and after (`add`). Written
 * in the trip's own transaction (one new row: nothing to contend on), removed by the fold that applies it.
 */
export interface LedgerEntry<C> extends Versioned {
  owner: string;
  sub: C;
  add: C;
  /** When the change was recorded (ISO 8601): the fold takes the oldest first. */
  at: string;
}

export interface SummaryLedger<S extends Versioned, C> {
  readonly name: string;
  readonly summaries: CollectionSpec<S>;
  readonly entries: CollectionSpec<LedgerEntry<C>>;
  /** A person's summary before any trip. */
  empty(owner: string): S;
  /** The summary after a trip's contribution moved from `sub` to `add`; the version is the store's business. */
  apply(summary: S, sub: C, add: C): S;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a list of ledgers of different summaries, used only through their own functions
export type AnySummaryLedger = SummaryLedger<any, any>;

export function defineSummaryLedger<S extends Versioned, C>(options: {
  summaries: CollectionSpec<S>;
  empty(owner: string): S;
  apply(summary: S, sub: C, add: C): S;
}): SummaryLedger<S, C> {
  const name = `${options.summaries.name}Ledger`;
  return {
    name,
    summaries: options.summaries,
    entries: defineCollection<LedgerEntry<C>>(name, [
      { fields: { owner: 1 }, name: 'owner' },
      { fields: { at: 1 }, name: 'oldest_first' },
    ]),
    empty: options.empty,
    apply: options.apply,
  };
}

/** Process-local hint, by ledger name, that a ledger has rows to fold (set before the commit: an abort costs one empty fold). */
const dirty = new Set<string>();

/** Records a trip change for its owner's summary, in the caller's unit of work. */
export async function recordTripChange<S extends Versioned, C>(
  tx: Transaction,
  ledger: SummaryLedger<S, C>,
  owner: string,
  sub: C,
  add: C,
  at: Date = new Date(),
): Promise<void> {
  await tx.repo(ledger.entries).insert({ id: randomUUID(), version: 1, owner, sub, add, at: at.toISOString() });
  dirty.add(ledger.name);
}

type Reader<T extends Versioned> = Pick<Repository<T>, 'get' | 'find'>;

/** The summary and its owner's rows not folded yet, applied in order: what the person's summary is as of this read. */
async function current<S extends Versioned, C>(
  ledger: SummaryLedger<S, C>,
  summaries: Reader<S>,
  entries: Reader<LedgerEntry<C>>,
  owner: string,
): Promise<{ stored: S | null; pending: LedgerEntry<C>[]; summary: S | null }> {
  const stored = await summaries.get(owner);
  const pending = await entries.find({ owner });
  if (pending.length === 0) return { stored, pending, summary: stored };
  let summary = stored ?? ledger.empty(owner);
  for (const e of pending) summary = ledger.apply(summary, e.sub, e.add);
  return { stored, pending, summary };
}

/** The person's summary as of now (null when none was ever made): one stored document plus the few rows not folded yet. */
export async function readSummary<S extends Versioned, C>(store: Store, ledger: SummaryLedger<S, C>, owner: string): Promise<S | null> {
  return (await current(ledger, store.read(ledger.summaries), store.read(ledger.entries), owner)).summary;
}

/** In a repair: the person's summary as of this unit of work, and a way to overwrite it that leaves no row to fold again. */
export async function summaryInTx<S extends Versioned, C>(
  tx: Transaction,
  ledger: SummaryLedger<S, C>,
  owner: string,
): Promise<{ summary: S | null; replace(next: S): Promise<void> }> {
  const summaries = tx.repo(ledger.summaries);
  const entries = tx.repo(ledger.entries);
  const { stored, pending, summary } = await current(ledger, summaries, entries, owner);
  return {
    summary,
    replace: async (next) => {
      if (pending.length > 0) await entries.deleteMany({ id: { $in: pending.map((e) => e.id) } });
      if (stored === null) await summaries.insert({ ...next, version: 1 });
      else await summaries.update({ ...next, version: stored.version });
    },
  };
}

/**
 * Folds up to `limit` rows into their owners' summaries in one transaction: the summaries' new totals and the removal
 * of the rows they include commit together, so a crash or a second folder (another replica) never counts a row twice.
 * Returns the rows folded.
 */
export async function foldLedger<S extends Versioned, C>(store: Store, ledger: SummaryLedger<S, C>, limit = 1000): Promise<number> {
  return store.run(async (tx) => {
    const entries = tx.repo(ledger.entries);
    const batch = await entries.find({}, { sort: [{ field: 'at', direction: 1 }], limit });
    if (batch.length === 0) return 0;
    const byOwner = new Map<string, LedgerEntry<C>[]>();
    for (const e of batch) byOwner.set(e.owner, [...(byOwner.get(e.owner) ?? []), e]);
    const summaries = tx.repo(ledger.summaries);
    const owners: Filter<S> = { id: { $in: [...byOwner.keys()] } } as Filter<S>;
    const stored = new Map((await summaries.find(owners)).map((s) => [s.id, s]));
    const created: S[] = [];
    const changed: S[] = [];
    for (const [owner, rows] of byOwner) {
      const before = stored.get(owner);
      let next = before ?? ledger.empty(owner);
      for (const e of rows) next = ledger.apply(next, e.sub, e.add);
      if (before === undefined) created.push({ ...next, version: 1 });
      else changed.push({ ...next, version: before.version });
    }
    // However many people the rows touch: one write for the new summaries, one for the changed ones.
    await summaries.insertMany(created);
    await summaries.updateAll(changed);
    await entries.deleteMany({ id: { $in: batch.map((e) => e.id) } });
    return batch.length;
  });
}

export interface LedgerFolderOptions {
  store: Store;
  ledger: AnySummaryLedger;
  logger: Logger;
  /** How soon after a local commit its rows are folded (default 500 ms): the stored summary trails its trips by about this. */
  intervalMs?: number;
  /** How often rows of other processes (replicas, one that crashed) are looked for when this one wrote none (default 5 s). */
  idleMs?: number;
}

const FOLD_BATCH = 1000;

/** Folds batch after batch until no row is left: a person's stored summary then holds every change written so far. */
export async function foldAllLedger<S extends Versioned, C>(store: Store, ledger: SummaryLedger<S, C>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await foldLedger(store, ledger, FOLD_BATCH);
    total += n;
    if (n < FOLD_BATCH) return total;
  }
}

/** Runs `foldLedger` in the background: soon after local writes, and now and then for everyone else's. */
export class LedgerFolder {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private lastFold = 0;
  private stopped = true;

  constructor(private readonly options: LedgerFolderOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule();
  }

  /** Waits for a fold in progress and folds what is left once more, so a clean stop leaves nothing behind. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
    await this.foldAll().catch((err: unknown) =>
      this.options.logger.warn(`folding ${this.options.ledger.name} at shutdown failed: ${errorMessage(err)}`),
    );
  }

  /** Folds until no row is left (tests and the rebuild use it to see the stored summaries settle). */
  foldAll(): Promise<number> {
    return foldAllLedger(this.options.store, this.options.ledger);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => this.tick(), this.options.intervalMs ?? 500);
    this.timer.unref();
  }

  private tick(): void {
    const { ledger, logger } = this.options;
    const idle = Date.now() - this.lastFold >= (this.options.idleMs ?? 5_000);
    if (!dirty.has(ledger.name) && !idle) return this.schedule();
    dirty.delete(ledger.name);
    this.lastFold = Date.now();
    this.running = this.foldAll()
      .then(() => undefined)
      .catch((err: unknown) => {
        // The rows stay and the next tick folds them: a summary is late, never wrong.
        dirty.add(ledger.name);
        logger.warn(`folding ${ledger.name} failed: ${errorMessage(err)}`);
      })
      .finally(() => {
        this.running = null;
        this.schedule();
      });
  }
}
