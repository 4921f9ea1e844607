// One AMQP connection per process that keeps itself alive: connects with backoff, re-runs setup steps on every (re)connect.
import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { errorMessage, type Logger } from '../logger';

/** A step run on every (re)connect, in registration order: declare topology, start consuming, open the relay channel. */
export type SetupStep = (conn: ChannelModel) => Promise<void>;

export interface AmqpConnectionOptions {
  url: string;
  logger: Logger;
  /** The `connection_name` client property: what the management UI shows, and how tests find the connection. */
  name: string;
  /** First reconnect delay (default 100 ms); doubles per failure up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  /** Reconnect delay cap (default 5 s). */
  maxBackoffMs?: number;
  /** TCP connect timeout (default 10 s), so a silent host cannot stall the reconnect loop. */
  connectTimeoutMs?: number;
}

export interface AmqpConnectionEvents {
  connected: [];
  disconnected: [reason: string];
}

/**
 * amqplib has no automatic recovery: this class is it. A lost connection or a lost channel opened through
 * `openChannel`/`openConfirmChannel` tears the connection down and builds it again, setup steps included.
 * It never throws from the background loop: the process stays up while the broker is away.
 */
export class AmqpConnectionManager extends EventEmitter<AmqpConnectionEvents> {
  private readonly steps: SetupStep[] = [];
  private model: ChannelModel | null = null;
  private connected = false;
  private started = false;
  private closed = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | null = null;
  /** Bumped on every connection attempt, so events of a dead connection or its channels are ignored. */
  private generation = 0;
  /** Channels closed on purpose: their 'close' is not a loss. */
  private readonly released = new WeakSet<Channel>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly connectTimeoutMs: number;

  constructor(private readonly options: AmqpConnectionOptions) {
    super();
    this.initialBackoffMs = options.initialBackoffMs ?? 100;
    this.maxBackoffMs = options.maxBackoffMs ?? 5_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.backoffMs = this.initialBackoffMs;
    // An EventEmitter with no 'error' listener throws; we never emit 'error', but keep listeners unbounded for tests.
    this.setMaxListeners(0);
  }

  get name(): string {
    return this.options.name;
  }

  /** Registers a setup step; if already connected it also runs now. Returns a function that unregisters it. */
  onConnect(step: SetupStep): () => void {
    this.steps.push(step);
    if (this.connected && this.model) {
      const model = this.model;
      const gen = this.generation;
      step(model).catch((err: unknown) => this.lose(gen, `setup step failed: ${errorMessage(err)}`));
    }
    return () => {
      const i = this.steps.indexOf(step);
      if (i >= 0) this.steps.splice(i, 1);
    };
  }

  /** Starts connecting in the background; resolves at once. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    void this.connect();
  }

  isConnected(): boolean {
    return this.connected;
  }

  /** Resolves once connected and every setup step ran; rejects after `timeoutMs`. */
  waitUntilConnected(timeoutMs = 10_000): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onConnected = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('connected', onConnected);
        reject(new Error(`broker not connected within ${timeoutMs} ms (${this.options.name})`));
      }, timeoutMs);
      this.once('connected', onConnected);
    });
  }

  /** A channel whose unexpected loss triggers recovery of the whole connection. */
  async openChannel(conn: ChannelModel): Promise<Channel> {
    return this.watch(conn, await conn.createChannel());
  }

  /** A confirm channel whose unexpected loss triggers recovery of the whole connection. */
  async openConfirmChannel(conn: ChannelModel): Promise<ConfirmChannel> {
    return this.watch(conn, await conn.createConfirmChannel());
  }

  /** Closes a channel on purpose (no recovery); errors of an already dead channel are ignored. */
  async releaseChannel(channel: Channel): Promise<void> {
    this.released.add(channel);
    try {
      await channel.close();
    } catch (err) {
      this.options.logger.debug(`channel already closed: ${errorMessage(err)}`);
    }
  }

  /** Tears down `conn` and reconnects (e.g. the broker cancelled a consumer); a no-op if `conn` is already replaced. */
  recover(conn: ChannelModel, reason: string): void {
    if (conn === this.model) this.lose(this.generation, reason);
  }

  /** Closes the connection for good: no reconnect after. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const model = this.model;
    this.model = null;
    this.generation += 1;
    const wasConnected = this.connected;
    this.connected = false;
    if (model) {
      try {
        await model.close();
      } catch (err) {
        this.options.logger.debug(`connection already closed: ${errorMessage(err)}`);
      }
    }
    if (wasConnected) this.emit('disconnected', 'closed');
  }

  private watch<C extends Channel>(conn: ChannelModel, channel: C): C {
    const gen = this.generation;
    channel.on('error', (err: unknown) => {
      this.options.logger.warn(`channel error: ${errorMessage(err)}`);
    });
    channel.on('close', () => {
      if (this.released.has(channel) || conn !== this.model) return;
      this.lose(gen, 'channel closed');
    });
    return channel;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const gen = ++this.generation;
    const { logger, url, name } = this.options;
    let model: ChannelModel;
    try {
      // noDelay: with Nagle on, every small publish or ack waits up to ~40 ms for the peer's delayed ACK, on every hop.
      model = await amqp.connect(url, { clientProperties: { connection_name: name }, timeout: this.connectTimeoutMs, noDelay: true });
    } catch (err) {
      logger.warn(`broker connection failed: ${errorMessage(err)}; retrying in ${this.backoffMs} ms`, { broker: redactAmqpUrl(url) });
      this.scheduleReconnect();
      return;
    }
    if (this.closed || gen !== this.generation) {
      await model.close().catch(() => undefined);
      return;
    }
    this.model = model;
    model.on('error', (err: unknown) => logger.warn(`broker connection error: ${errorMessage(err)}`));
    model.on('close', () => this.lose(gen, 'connection closed'));
    model.on('blocked', (reason: unknown) => logger.warn(`broker blocked the connection: ${String(reason)}`));
    model.on('unblocked', () => logger.info('broker unblocked the connection'));
    try {
      // Live over the list, not a snapshot: a step registered while earlier ones run is run in this round too.
      const done = new Set<SetupStep>();
      for (let step = this.steps[0]; step !== undefined; step = this.steps.find((s) => !done.has(s))) {
        if (gen !== this.generation) return;
        done.add(step);
        await step(model);
      }
    } catch (err) {
      this.lose(gen, `setup step failed: ${errorMessage(err)}`);
      return;
    }
    if (gen !== this.generation || this.closed) return;
    this.connected = true;
    this.backoffMs = this.initialBackoffMs;
    logger.info('broker connected', { broker: redactAmqpUrl(url), connectionName: name });
    this.emit('connected');
  }

  /** The connection of generation `gen` (or one of its channels) is gone: drop it and reconnect after a backoff. */
  private lose(gen: number, reason: string): void {
    if (gen !== this.generation || this.closed) return;
    this.generation += 1;
    const model = this.model;
    this.model = null;
    const wasConnected = this.connected;
    this.connected = false;
    this.options.logger.warn(`broker connection lost (${reason}); reconnecting in ${this.backoffMs} ms`);
    // Closing tears down its other channels too, so every setup step starts from scratch on the new connection.
    if (model) model.close().catch(() => undefined);
    if (wasConnected) this.emit('disconnected', reason);
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const jitter = Math.random() * 0.2 * this.backoffMs;
    const delay = Math.round(this.backoffMs + jitter);
    this.backoffMs = Math.min(this.backoffMs * 2, this.maxBackoffMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }
}

/** The URL without its password, for logs. */
export function redactAmqpUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
