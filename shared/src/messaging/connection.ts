// One AMQP connection per process that keeps itself alive (amqplib 2's recovery), re-running setup steps on every (re)connect.
import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type RecoveringChannelModel } from 'amqplib';
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
 * One connection per process on amqplib 2's opt-in recovery, which reconnects a lost connection with backoff and runs
 * a setup function on every (re)connect. Around it this class keeps what amqplib's recovery does not do: setup steps
 * registered (and unregistered) at any time, a lost channel or a cancelled consumer rebuilding the whole connection,
 * and the connected/disconnected events and readiness the runtime, consumer and relay are written against.
 * It never throws from the background: the process stays up while the broker is away.
 */
export class AmqpConnectionManager extends EventEmitter<AmqpConnectionEvents> {
  private readonly steps: SetupStep[] = [];
  private recovering: RecoveringChannelModel | null = null;
  /** The connection whose setup completed; null while (re)connecting. */
  private model: ChannelModel | null = null;
  private connected = false;
  private started = false;
  private closed = false;
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
      step(model).catch((err: unknown) => this.recover(model, `setup step failed: ${errorMessage(err)}`));
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
    const { logger, url, name } = this.options;
    const broker = redactAmqpUrl(url);
    amqp
      .connect(url, {
        clientProperties: { connection_name: name },
        timeout: this.connectTimeoutMs,
        // noDelay: with Nagle on, every small publish or ack waits up to ~40 ms for the peer's delayed ACK, on every hop.
        noDelay: true,
        recovery: {
          initialDelay: this.initialBackoffMs,
          maxDelay: this.maxBackoffMs,
          maxRetries: Infinity,
          // Resolve at once: listeners go on before the first attempt, and close() can cancel it.
          waitForConnect: false,
          setup: (model: ChannelModel) => this.runSteps(model),
        },
      })
      .then((recovering) => {
        if (this.closed) {
          void recovering.close();
          return;
        }
        this.recovering = recovering;
        recovering.on('connect', (model: ChannelModel) => {
          if (this.closed) return;
          this.model = model;
          this.connected = true;
          model.on('blocked', (reason: unknown) => logger.warn(`broker blocked the connection: ${String(reason)}`));
          model.on('unblocked', () => logger.info('broker unblocked the connection'));
          logger.info('broker connected', { broker, connectionName: name });
          this.emit('connected');
        });
        recovering.on('disconnect', (err: Error) => {
          this.model = null;
          const wasConnected = this.connected;
          this.connected = false;
          if (this.closed) return;
          logger.warn(`broker connection lost (${err.message})`);
          if (wasConnected) this.emit('disconnected', err.message);
        });
        recovering.on('connect-failed', (err: Error) => logger.warn(`broker connection failed: ${errorMessage(err)}`, { broker }));
        recovering.on('reconnect-scheduled', ({ delay }: { delay: number }) => logger.info(`reconnecting in ${delay} ms`, { broker }));
        recovering.on('error', (err: unknown) => logger.warn(`broker connection error: ${errorMessage(err)}`));
      })
      .catch((err: unknown) => logger.error(`broker connection could not start: ${errorMessage(err)}`, { broker }));
  }

  /** amqplib's setup function: every registered step, in order, live over the list (a step added meanwhile runs too). */
  private async runSteps(model: ChannelModel): Promise<void> {
    // amqplib watches the connection only once setup is done: a loss during setup must fail it, or it would keep a dead one.
    let lost = false;
    const onClose = () => {
      lost = true;
    };
    model.once('close', onClose);
    try {
      const done = new Set<SetupStep>();
      for (let step = this.steps[0]; step !== undefined; step = this.steps.find((s) => !done.has(s))) {
        if (lost || this.closed) break;
        done.add(step);
        await step(model);
      }
    } finally {
      model.off('close', onClose);
    }
    if (lost) throw new Error('connection closed during setup');
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

  /**
   * Rebuilds `conn` (e.g. the broker cancelled a consumer); a no-op if `conn` is already replaced. amqplib recovers
   * lost connections only, so closing this one is how a lost channel gets a fresh connection and setup.
   */
  recover(conn: ChannelModel, reason: string): void {
    if (conn !== this.model || this.closed) return;
    this.options.logger.warn(`rebuilding the broker connection (${reason})`);
    conn.close().catch((err: unknown) => this.options.logger.debug(`connection already closing: ${errorMessage(err)}`));
  }

  /** Closes the connection for good: no reconnect after. */
  async close(): Promise<void> {
    this.closed = true;
    const wasConnected = this.connected;
    this.connected = false;
    this.model = null;
    const recovering = this.recovering;
    this.recovering = null;
    if (recovering) {
      try {
        await recovering.close();
      } catch (err) {
        this.options.logger.debug(`connection already closed: ${errorMessage(err)}`);
      }
    }
    if (wasConnected) this.emit('disconnected', 'closed');
  }

  private watch<C extends Channel>(conn: ChannelModel, channel: C): C {
    channel.on('error', (err: unknown) => {
      this.options.logger.warn(`channel error: ${errorMessage(err)}`);
    });
    channel.on('close', () => {
      if (!this.released.has(channel)) this.recover(conn, 'channel closed');
    });
    return channel;
  }
}

/** The URL without its password, for logs. */
export function redactAmqpUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
