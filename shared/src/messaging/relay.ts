// The outbox relay of DESIGN §5: claims leased batches, publishes them with confirms, marks them DISPATCHED in bulk.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChannelModel } from 'amqplib';
import { errorMessage, withContext, type Logger } from '../logger';
import { performance } from 'node:perf_hooks';
import { DEFAULT_OUTBOX_LEASE_MS } from '../config';
import { Doorbell } from '../doorbell';
import type { Metrics } from '../metrics';
import type { OutboxRecord, OutboxStore } from '../store/port';
import type { AmqpConnectionManager } from './connection';
import { ConfirmPublisher } from './publisher';

export interface OutboxRelayOptions {
  connection: AmqpConnectionManager;
  outbox: OutboxStore;
  prefix: string;
  /** The service whose outbox this is (names its publish spans). */
  service?: string;
  /** Owner of the leases (default host:pid:random); two relays must never share one. */
  relayId?: string;
  /** Rows per claim (default 500). */
  batchSize?: number;
  /** Lease of a claimed batch and of fast-path rows (default 10 s): a crashed relay's rows are taken over after it. */
  leaseMs?: number;
  /** Fallback poll when nobody rings (default 1 s). */
  pollIntervalMs?: number;
  /** Batches in flight at once (default 2): the next batch is claimed and sent while the previous awaits confirms. */
  concurrency?: number;
  /** Backoff after a failed publish: starts here (default 250 ms), doubles, capped by `maxBackoffMs` (default 10 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long confirmed ids wait for others to share their bulk mark (default 200 ms). */
  markDelayMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

/** A fast row this close to the end of its lease is left to the claim: publishing it now could race another relay. */
const LEASE_MARGIN_MS = 1_000;

/**
 * The fast path first: the rows this process just committed arrive from the store (already leased to this relay) and
 * are published at once, never read back. The lease claim runs on the poll timer (or when a full batch says more is
 * waiting) and takes over whatever the fast path missed: a crashed process's rows, rows whose lease expired while the
 * broker was away. Confirmed ids are marked DISPATCHED by one coalesced bulk update for the rows of many commits; a
 * row the broker refuses goes back with its own backoff (`attempts`) and holds back nothing behind it.
 */
export class OutboxRelay {
  readonly relayId: string;
  private readonly batchSize: number;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly concurrency: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly logger: Logger;
  private readonly bell = new Doorbell();
  private publisher: ConfirmPublisher | null = null;
  private workers: Promise<void>[] = [];
  private unsubscribe: (() => void)[] = [];
  private running = false;
  /** Rows of local commits waiting to be published (fast path), oldest first. */
  private fast: OutboxRecord[] = [];
  /** When the next lease claim is due (performance clock, ms); 0: at once. */
  private nextClaimAt = 0;
  private claiming = false;
  /** Confirmed ids waiting for the next coalesced mark. */
  private toMark: string[] = [];
  private marking: Promise<void> | null = null;
  private markTimer: NodeJS.Timeout | null = null;
  private readonly markDelayMs: number;
  private connectionFailures = 0;

  constructor(private readonly options: OutboxRelayOptions) {
    this.relayId = options.relayId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.batchSize = options.batchSize ?? 500;
    this.leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.markDelayMs = options.markDelayMs ?? 200;
    this.logger = withContext(options.logger, { component: 'relay', relayId: this.relayId });
  }

  /** Starts the workers; they publish whenever the connection is up. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { connection, outbox } = this.options;
    this.unsubscribe = [
      connection.onConnect((conn) => this.setup(conn)),
      // Someone else's commit (a change stream) or a store without our fast path: claim at once.
      outbox.onNewMessages(() => {
        this.nextClaimAt = 0;
        this.bell.ring();
      }),
      outbox.attachFastPath({ relayId: this.relayId, leaseMs: this.leaseMs, committed: (rows) => this.take(rows) }),
    ];
    const onDisconnected = () => {
      this.publisher = null;
    };
    connection.on('disconnected', onDisconnected);
    this.unsubscribe.push(() => connection.off('disconnected', onDisconnected));
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  /** Lets the batches in flight finish (published and marked, or given back), then returns. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    this.bell.stop();
    await Promise.all(this.workers);
    this.workers = [];
    await this.flushMarks();
    // Rows still in memory keep their lease and are claimed after it by whichever relay runs next.
    this.fast = [];
    const publisher = this.publisher;
    this.publisher = null;
    if (publisher) await this.options.connection.releaseChannel(publisher.channel);
  }

  private take(rows: OutboxRecord[]): void {
    if (!this.running) return;
    for (const r of rows) this.fast.push(r);
    this.bell.ring();
  }

  private async setup(conn: ChannelModel): Promise<void> {
    if (!this.running) return;
    const channel = await this.options.connection.openConfirmChannel(conn);
    this.publisher = new ConfirmPublisher(channel, this.options.prefix, this.options.service);
    // Whatever waited while the broker was away: the fast rows go first, then a claim for the rest.
    this.nextClaimAt = 0;
    this.bell.ring();
  }

  private async work(): Promise<void> {
    while (this.running) {
      const publisher = this.publisher;
      if (!publisher || !publisher.isOpen()) {
        await this.bell.wait(this.pollIntervalMs);
        continue;
      }
      let batch = this.takeFast();
      if (batch.length === 0) batch = await this.claimIfDue();
      if (batch.length === 0) {
        await this.bell.wait(Math.max(1, Math.min(this.pollIntervalMs, this.nextClaimAt - performance.now())));
        continue;
      }
      // More may be waiting: let an idle peer start on it while this batch awaits its confirms.
      if (this.fast.length > 0 || this.nextClaimAt === 0) this.bell.ring();
      await this.relay(publisher, batch);
    }
  }

  /** Up to a batch of fast rows whose lease is still ours; an expired one is left to the claim (it may be another's now). */
  private takeFast(): OutboxRecord[] {
    if (this.fast.length === 0) return [];
    const now = Date.now();
    const batch: OutboxRecord[] = [];
    let i = 0;
    for (; i < this.fast.length && batch.length < this.batchSize; i++) {
      const row = this.fast[i] as OutboxRecord;
      if (row.lockedUntil === null || row.lockedUntil.getTime() > now + LEASE_MARGIN_MS) batch.push(row);
    }
    this.fast = this.fast.slice(i);
    return batch;
  }

  /** One claim at a time, on the poll timer; a full batch makes the next one due at once. */
  private async claimIfDue(): Promise<OutboxRecord[]> {
    if (this.claiming || performance.now() < this.nextClaimAt) return [];
    this.claiming = true;
    try {
      const batch = await this.options.outbox.claim(this.relayId, this.batchSize, this.leaseMs);
      this.nextClaimAt = batch.length >= this.batchSize ? 0 : performance.now() + this.pollIntervalMs;
      return batch;
    } catch (err) {
      const delay = this.backoff(this.connectionFailures++);
      this.nextClaimAt = performance.now() + delay;
      this.logger.error(`outbox claim failed: ${errorMessage(err)}; retrying in ${delay} ms`);
      return [];
    } finally {
      this.claiming = false;
    }
  }

  /** Publishes one batch; confirmed ids join the next coalesced mark, refused ones go back with their own backoff. */
  private async relay(publisher: ConfirmPublisher, batch: OutboxRecord[]): Promise<void> {
    const { metrics } = this.options;
    const result = await publisher.publishBatch(batch);
    if (result.confirmed.length > 0) {
      this.connectionFailures = 0;
      for (const id of result.confirmed) this.toMark.push(id);
      this.scheduleMarks();
      if (metrics) {
        const confirmed = new Set(result.confirmed);
        const perType = new Map<string, number>();
        for (const r of batch) if (confirmed.has(r.id)) perType.set(r.type, (perType.get(r.type) ?? 0) + 1);
        for (const [type, n] of perType) metrics.published.inc({ type }, n);
      }
    }
    if (result.failed.length === 0) return;
    const failed = new Set(result.failed);
    const rows = batch.filter((r) => failed.has(r.id));
    this.logger.warn(`${rows.length} of ${batch.length} messages not confirmed (${result.error ?? 'unknown'}); each backs off on its own`);
    await this.giveBack(rows);
    // A closed channel fails everything: wait for the connection instead of spinning on it.
    if (!publisher.isOpen()) await this.bell.sleep(this.backoff(this.connectionFailures++));
  }

  /** Failed rows go back to the store with a delay that grows with each row's own attempts. */
  private async giveBack(rows: OutboxRecord[]): Promise<void> {
    const byDelay = new Map<number, string[]>();
    for (const r of rows) {
      const delay = this.backoff(r.attempts);
      byDelay.set(delay, [...(byDelay.get(delay) ?? []), r.id]);
    }
    for (const [delay, ids] of byDelay) {
      try {
        await this.options.outbox.release(this.relayId, ids, delay);
      } catch (err) {
        // Not released: the lease expires instead, a little later.
        this.logger.error(`releasing ${ids.length} outbox rows failed: ${errorMessage(err)}`);
      }
    }
  }

  /**
   * The first confirmed id opens a short window (`markDelayMs`) for the ids of later commits to join, then one bulk
   * update marks them all. The rows stay leased to this relay meanwhile, so nobody publishes them again.
   */
  private scheduleMarks(): void {
    if (this.markTimer !== null || this.marking !== null) return;
    this.markTimer = setTimeout(() => {
      this.markTimer = null;
      void this.flushMarks();
    }, this.markDelayMs);
  }

  /** One bulk mark for everything confirmed since the last one; the marks of commits that arrive meanwhile wait for the next. */
  private flushMarks(): Promise<void> {
    if (this.markTimer !== null) {
      clearTimeout(this.markTimer);
      this.markTimer = null;
    }
    if (this.marking) return this.marking;
    if (this.toMark.length === 0) return Promise.resolve();
    this.marking = (async () => {
      while (this.toMark.length > 0) {
        const ids = this.toMark;
        this.toMark = [];
        try {
          await this.options.outbox.markDispatched(this.relayId, ids);
        } catch (err) {
          // The rows stay leased and are published again when the lease expires: duplicates the inbox absorbs.
          this.logger.error(`marking ${ids.length} outbox rows dispatched failed: ${errorMessage(err)}`);
        }
      }
    })().finally(() => {
      this.marking = null;
      if (this.toMark.length > 0) this.scheduleMarks();
    });
    return this.marking;
  }

  private backoff(failures: number): number {
    return Math.min(this.minBackoffMs * 2 ** Math.min(failures, 20), this.maxBackoffMs);
  }
}
