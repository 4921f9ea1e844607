// The outbox relay of DESIGN §5: claims leased batches, publishes them with confirms, marks them DISPATCHED in bulk.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ChannelModel } from 'amqplib';
import { errorMessage, withContext, type Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { OutboxRecord, OutboxStore } from '../store/port';
import type { AmqpConnectionManager } from './connection';
import { ConfirmPublisher } from './publisher';

export interface OutboxRelayOptions {
  connection: AmqpConnectionManager;
  outbox: OutboxStore;
  prefix: string;
  /** Owner of the leases (default host:pid:random); two relays must never share one. */
  relayId?: string;
  /** Rows per claim (default 500). */
  batchSize?: number;
  /** Lease of a claimed batch (default 30 s): a crashed relay's rows are taken over after it. */
  leaseMs?: number;
  /** Fallback poll when nobody rings (default 1 s). */
  pollIntervalMs?: number;
  /** Batches in flight at once (default 2): the next batch is claimed and sent while the previous awaits confirms. */
  concurrency?: number;
  /** Backoff after a failed publish: starts here (default 250 ms), doubles, capped by `maxBackoffMs` (default 10 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

const STATS_INTERVAL_MS = 1_000;

/**
 * Each worker loops: claim a batch with a lease, publish it with many confirms in flight, mark the confirmed ids in
 * one bulk call, give failed ids back with a backoff. A full batch means more is waiting: loop at once (and wake an
 * idle peer); otherwise sleep until a commit rings, `wake()` is called, or the poll timer fires.
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
  private failures = 0;
  private lastStatsAt = 0;
  private statsRunning = false;

  constructor(private readonly options: OutboxRelayOptions) {
    this.relayId = options.relayId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.batchSize = options.batchSize ?? 500;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
    this.concurrency = Math.max(1, options.concurrency ?? 2);
    this.minBackoffMs = options.minBackoffMs ?? 250;
    this.maxBackoffMs = options.maxBackoffMs ?? 10_000;
    this.logger = withContext(options.logger, { component: 'relay', relayId: this.relayId });
  }

  /** Starts the workers; they publish whenever the connection is up. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const { connection, outbox } = this.options;
    this.unsubscribe = [connection.onConnect((conn) => this.setup(conn)), outbox.onNewMessages(() => this.bell.ring())];
    const onDisconnected = () => {
      this.publisher = null;
    };
    connection.on('disconnected', onDisconnected);
    this.unsubscribe.push(() => connection.off('disconnected', onDisconnected));
    this.workers = Array.from({ length: this.concurrency }, () => this.work());
  }

  /** Rings the doorbell: something was committed to the outbox. */
  wake(): void {
    this.bell.ring();
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
    const publisher = this.publisher;
    this.publisher = null;
    if (publisher) await this.options.connection.releaseChannel(publisher.channel);
  }

  private async setup(conn: ChannelModel): Promise<void> {
    if (!this.running) return;
    const channel = await this.options.connection.openConfirmChannel(conn);
    this.publisher = new ConfirmPublisher(channel, this.options.prefix);
    this.bell.ring();
  }

  private async work(): Promise<void> {
    while (this.running) {
      const publisher = this.publisher;
      if (!publisher || !publisher.isOpen()) {
        await this.bell.wait(this.pollIntervalMs);
        continue;
      }
      let batch: OutboxRecord[];
      try {
        batch = await this.options.outbox.claim(this.relayId, this.batchSize, this.leaseMs);
      } catch (err) {
        const delay = this.nextBackoff();
        this.logger.error(`outbox claim failed: ${errorMessage(err)}; retrying in ${delay} ms`);
        await this.bell.sleep(delay);
        continue;
      }
      this.refreshStats();
      if (batch.length === 0) {
        await this.bell.wait(this.pollIntervalMs);
        continue;
      }
      const full = batch.length >= this.batchSize;
      // More is waiting: let an idle peer claim the next batch while this one awaits its confirms.
      if (full) this.bell.ring();
      const ok = await this.relay(publisher, batch);
      if (!ok) continue;
      if (!full) await this.bell.wait(this.pollIntervalMs);
    }
  }

  /** Publishes one claimed batch; false when some of it failed (the worker already backed off). */
  private async relay(publisher: ConfirmPublisher, batch: OutboxRecord[]): Promise<boolean> {
    const { outbox, metrics } = this.options;
    const result = await publisher.publishBatch(batch);
    if (result.confirmed.length > 0) {
      try {
        await outbox.markDispatched(this.relayId, result.confirmed);
      } catch (err) {
        // The rows stay leased and are published again when the lease expires: duplicates the inbox absorbs.
        this.logger.error(`marking ${result.confirmed.length} outbox rows dispatched failed: ${errorMessage(err)}`);
      }
      if (metrics) {
        const confirmed = new Set(result.confirmed);
        const perType = new Map<string, number>();
        for (const r of batch) if (confirmed.has(r.id)) perType.set(r.type, (perType.get(r.type) ?? 0) + 1);
        for (const [type, n] of perType) metrics.published.inc({ type }, n);
      }
    }
    if (result.failed.length === 0) {
      this.failures = 0;
      return true;
    }
    const delay = this.nextBackoff();
    this.logger.warn(
      `${result.failed.length} of ${batch.length} messages not confirmed (${result.error ?? 'unknown'}); retrying in ${delay} ms`,
    );
    try {
      await outbox.release(this.relayId, result.failed, delay);
    } catch (err) {
      // Not released: the lease expires instead, a little later.
      this.logger.error(`releasing ${result.failed.length} outbox rows failed: ${errorMessage(err)}`);
    }
    await this.bell.sleep(delay);
    return false;
  }

  private nextBackoff(): number {
    const delay = Math.min(this.minBackoffMs * 2 ** this.failures, this.maxBackoffMs);
    this.failures += 1;
    return delay;
  }

  /** Updates the outbox gauges at most once a second, off the publishing path. */
  private refreshStats(): void {
    const { metrics, outbox } = this.options;
    if (!metrics || this.statsRunning || Date.now() - this.lastStatsAt < STATS_INTERVAL_MS) return;
    this.statsRunning = true;
    this.lastStatsAt = Date.now();
    outbox
      .stats()
      .then((stats) => {
        metrics.outboxPending.set(stats.pending);
        metrics.outboxOldestPendingAge.set(stats.oldestPendingAt ? Math.max(0, (Date.now() - stats.oldestPendingAt.getTime()) / 1000) : 0);
      })
      .catch((err: unknown) => this.logger.warn(`outbox stats failed: ${errorMessage(err)}`))
      .finally(() => {
        this.statsRunning = false;
      });
  }
}

/** A wake-up signal that is never lost: a ring with nobody waiting is kept for the next `wait`. */
class Doorbell {
  private rung = false;
  private stopped = false;
  /** Waiting for a ring (or a timeout). */
  private readonly waiters = new Set<() => void>();
  /** Backing off: only stop cuts that short. */
  private readonly sleepers = new Set<() => void>();

  ring(): void {
    if (this.waiters.size === 0) {
      this.rung = true;
      return;
    }
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w();
  }

  stop(): void {
    this.stopped = true;
    this.ring();
    for (const s of [...this.sleepers]) s();
  }

  /** Resolves on a ring (or one that came while nobody waited), on stop, or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.rung || this.stopped) {
      this.rung = false;
      return Promise.resolve();
    }
    return this.timer(ms, this.waiters);
  }

  /** Resolves after `ms`, or at once on stop. */
  sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return this.timer(ms, this.sleepers);
  }

  private timer(ms: number, set: Set<() => void>): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }
}
