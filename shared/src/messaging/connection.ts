// One AMQP connection per process that keeps itself alive: connects with backoff, re-runs setup steps on every (re)connect.
import { EventEmitter } from 'node:events';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { amqpUrls } from '../config';
import { errorMessage, type Logger } from '../logger';

/** A step run on every (re)connect, in registration order: declare topology, start consuming, open the relay channel. */
export type SetupStep = (conn: ChannelModel) => Promise<void>;

/**
 * A setup step's failure that reconnecting will not cure (e.g. a queue declared with other arguments): the connection
 * still retries, but says it at error level and keeps it as the reason the process is not ready, until a setup succeeds.
 */
export class SetupBlockedError extends Error {}

export interface AmqpConnectionOptions {
  /** One broker, or the nodes of one cluster separated by commas (AMQP_URL); each (re)connect tries them in turn. */
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
 *
 * With several nodes in `url`, a connect attempt tries them in turn and takes the first that answers; a lost connection
 * starts with the node after the one it was on, so clients of a failed node move to the next one at once. The backoff
 * applies between rounds (every node refused), exactly as with one node.
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
  private blocker: string | undefined;
  /** Channels closed on purpose: their 'close' is not a loss. */
  private readonly released = new WeakSet<Channel>();
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly connectTimeoutMs: number;
  private readonly urls: readonly string[];
  /** Index in `urls` of the node the next attempt tries first. */
  private nextUrl = 0;
  /** Index in `urls` of the node of the current (or last) connection. */
  private currentUrl = -1;

  constructor(private readonly options: AmqpConnectionOptions) {
    super();
    this.urls = amqpUrls(options.url);
    if (this.urls.length === 0) throw new Error('AmqpConnectionManager: no broker URL given');
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

  /** The node of the live connection (password redacted), or undefined while not connected. */
  get connectedTo(): string | undefined {
    const url = this.connected ? this.urls[this.currentUrl] : undefined;
    return url === undefined ? undefined : redactAmqpUrl(url);
  }

  /** Registers a setup step; if already connected it also runs now. Returns a function that unregisters it. */
  onConnect(step: SetupStep): () => void {
    this.steps.push(step);
    if (this.connected && this.model) {
      const model = this.model;
      const gen = this.generation;
      step(model).catch((err: unknown) => this.setupFailed(gen, err));
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
    const { logger, name } = this.options;
    let model: ChannelModel | undefined;
    let url = '';
    const failures: string[] = [];
    for (let tried = 0; tried < this.urls.length && model === undefined; tried += 1) {
      const index = (this.nextUrl + tried) % this.urls.length;
      url = this.urls[index] ?? '';
      try {
        // noDelay: with Nagle on, every small publish or ack waits up to ~40 ms for the peer's delayed ACK, on every hop.
        model = await amqp.connect(url, { clientProperties: { connection_name: name }, timeout: this.connectTimeoutMs, noDelay: true });
        this.currentUrl = index;
        this.nextUrl = index;
      } catch (err) {
        failures.push(this.urls.length > 1 ? `${redactAmqpUrl(url)}: ${errorMessage(err)}` : errorMessage(err));
        if (this.closed || gen !== this.generation) return;
      }
    }
    if (model === undefined) {
      logger.warn(`broker connection failed: ${failures.join('; ')}; retrying in ${this.backoffMs} ms`, {
        broker: redactAmqpUrl(this.options.url),
      });
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
      this.setupFailed(gen, err);
      return;
    }
    if (gen !== this.generation || this.closed) return;
    this.connected = true;
    this.blocker = undefined;
    this.backoffMs = this.initialBackoffMs;
    logger.info('broker connected', { broker: redactAmqpUrl(url), connectionName: name });
    this.emit('connected');
  }

  /** The last setup failure that reconnecting will not cure (a SetupBlockedError), until a setup succeeds. */
  get blockedBy(): string | undefined {
    return this.blocker;
  }

  private setupFailed(gen: number, err: unknown): void {
    if (err instanceof SetupBlockedError) {
      // Said at error level on every round: the operator has to act, and a warn among reconnects is easy to miss.
      this.blocker = err.message;
      this.options.logger.error(`cannot set up the broker connection: ${err.message}`);
    }
    this.lose(gen, `setup step failed: ${errorMessage(err)}`);
  }

  /** The connection of generation `gen` (or one of its channels) is gone: drop it and reconnect after a backoff. */
  private lose(gen: number, reason: string): void {
    if (gen !== this.generation || this.closed) return;
    this.generation += 1;
    const model = this.model;
    this.model = null;
    const wasConnected = this.connected;
    this.connected = false;
    // The next attempt starts with the node after this one: when this one failed, its clients move on at once.
    if (this.currentUrl >= 0) this.nextUrl = (this.currentUrl + 1) % this.urls.length;
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

/** The URL (or comma-separated URLs) without passwords, for logs. */
export function redactAmqpUrl(url: string): string {
  return url.replace(/\/\/([^:@/,]*):[^@/,]*@/g, '//$1:***@');
}

/**
 * One plain connection to the first node of `url` (one URL, or the nodes of a cluster comma separated) that answers:
 * for scripts and tests that need no recovery. With one URL it fails exactly as `amqp.connect` does.
 */
export async function connectToAnyNode(url: string, socketOptions?: Parameters<typeof amqp.connect>[1]): Promise<ChannelModel> {
  const nodes = amqpUrls(url);
  if (nodes.length <= 1) return amqp.connect(nodes[0] ?? url, socketOptions);
  const failures: string[] = [];
  for (const node of nodes) {
    try {
      return await amqp.connect(node, socketOptions);
    } catch (err) {
      failures.push(`${redactAmqpUrl(node)}: ${errorMessage(err)}`);
    }
  }
  throw new Error(`no node of the cluster answered (${failures.join('; ')})`);
}
