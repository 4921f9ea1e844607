// Consumes a service's queue: validates, dispatches through the inbox, acks after commit, retries with delays, parks.
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import type { QueueType } from '../config';
import { parseEnvelope } from '../envelope';
import { eventCatalogue, type EventType } from '../events';
import { errorMessage, withContext, type Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Store } from '../store/port';
import type { AmqpConnectionManager } from './connection';
import { contextFrom, inSpan } from '../tracing';
import { dispatch } from './dispatch';
import { SagaLanes } from './lanes';
import type { AnySubscription } from './handler';
import {
  HEADER_ATTEMPTS,
  HEADER_CAUSATION_ID,
  HEADER_LAST_ERROR,
  HEADER_PARKED_AT,
  HEADER_PARKING_REASON,
  stringOrUndefined,
} from '../wire';
import { ConfirmPublisher } from './publisher';
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_RETRY_DELAYS_MS, declareServiceTopology, names, retryLevel, type ServiceNames } from './topology';

export interface MessageConsumerOptions {
  connection: AmqpConnectionManager;
  store: Store;
  /** The consuming service: its queue name and its inbox consumer key. */
  service: string;
  prefix: string;
  /** The unprefixed exchange the service publishes to (declared with its topology). */
  exchange: string;
  subscriptions: readonly AnySubscription[];
  maxAttempts?: number;
  retryDelaysMs?: readonly number[];
  prefetch?: number;
  /** QUEUE_TYPE of the service, retry and parking queues (quorum by default). */
  queueType?: QueueType;
  logger: Logger;
  metrics?: Metrics;
}

/** Why a message went to the parking queue (the `reason` label of messages_dead_lettered). */
export type ParkingCause = 'invalid' | 'no-handler' | 'exhausted';

/** Longest x-last-error / x-parking-reason kept in a header. */
const MAX_REASON_LENGTH = 1_000;

/** Headers RabbitMQ adds when dead-lettering; our own x-attempts / x-last-error carry the history instead. */
const BROKER_DEATH_HEADERS = [
  'x-death',
  'x-first-death-exchange',
  'x-first-death-queue',
  'x-first-death-reason',
  'x-last-death-exchange',
  'x-last-death-queue',
  'x-last-death-reason',
  // Set by quorum queues on each delivery: not a property of the message.
  'x-delivery-count',
];

/**
 * Manual acks, `prefetch` messages at a time. A message is acked only after its handler's unit of work committed,
 * or after its retry / parked copy was confirmed by the broker: a crash at any point redelivers instead of losing it.
 */
export class MessageConsumer {
  private readonly subscriptions = new Map<EventType, AnySubscription>();
  private readonly names: ServiceNames;
  private readonly maxAttempts: number;
  private readonly retryDelaysMs: readonly number[];
  private readonly prefetch: number;
  private readonly logger: Logger;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly sagaLanes = new SagaLanes();
  private unregister: (() => void) | null = null;
  private channel: ConfirmChannel | null = null;
  private consumerTag: string | null = null;
  private stopping = false;

  constructor(private readonly options: MessageConsumerOptions) {
    for (const sub of options.subscriptions) {
      // The inbox key is (consumer, message id): two handlers of one event would shadow each other.
      if (this.subscriptions.has(sub.event)) throw new Error(`${options.service} subscribes twice to ${sub.event}`);
      this.subscriptions.set(sub.event, sub);
    }
    this.names = names(options.prefix, options.service);
    this.maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.retryDelaysMs = options.retryDelaysMs && options.retryDelaysMs.length > 0 ? options.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
    this.prefetch = options.prefetch ?? 32;
    this.logger = withContext(options.logger, { component: 'consumer', queue: this.names.queue });
  }

  get queue(): string {
    return this.names.queue;
  }

  /** Registers the setup step (topology, channel, consume) that runs on every (re)connect. */
  async start(): Promise<void> {
    if (this.unregister) return;
    this.stopping = false;
    this.unregister = this.options.connection.onConnect((conn) => this.setup(conn));
  }

  /**
   * Stops taking messages and waits for the ones in flight, at most `drainMs`: after that the channel closes anyway and
   * the broker gives the unacknowledged ones to another consumer (their work either committed, and the inbox absorbs the
   * redelivery, or it did not, and the redelivery does it). Nothing is lost either way.
   */
  async stop(drainMs = Number.POSITIVE_INFINITY): Promise<void> {
    this.stopping = true;
    this.unregister?.();
    this.unregister = null;
    const channel = this.channel;
    const tag = this.consumerTag;
    this.consumerTag = null;
    if (channel && tag) {
      try {
        await channel.cancel(tag);
      } catch (err) {
        this.logger.debug(`cancel on a closed channel: ${errorMessage(err)}`);
      }
    }
    const deadline = Date.now() + drainMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) {
      const all = Promise.allSettled([...this.inFlight]);
      if (!Number.isFinite(drainMs)) {
        await all;
        continue;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      await Promise.race([all, timeout]);
      clearTimeout(timer);
    }
    if (this.inFlight.size > 0) {
      this.logger.warn(`stopping with ${this.inFlight.size} message(s) still in flight after ${drainMs} ms; the broker redelivers them`);
    }
    if (channel) {
      this.channel = null;
      await this.options.connection.releaseChannel(channel);
    }
  }

  private async setup(conn: ChannelModel): Promise<void> {
    if (this.stopping) return;
    const channel = await this.options.connection.openConfirmChannel(conn);
    await declareServiceTopology(channel, {
      prefix: this.options.prefix,
      service: this.options.service,
      exchange: this.options.exchange,
      events: [...this.subscriptions.keys()],
      retryDelaysMs: this.retryDelaysMs,
      queueType: this.options.queueType,
    });
    await channel.prefetch(this.prefetch);
    const publisher = new ConfirmPublisher(channel, this.options.prefix, this.options.service);
    this.channel = channel;
    const reply = await channel.consume(
      this.names.queue,
      (msg) => {
        // null: the broker cancelled the consumer (e.g. its queue was deleted); reconnecting redeclares and re-consumes.
        if (msg === null) {
          if (this.stopping) return;
          this.logger.warn('consumer cancelled by the broker');
          this.options.connection.recover(conn, 'consumer cancelled by the broker');
          return;
        }
        const work = this.handle(channel, publisher, msg).catch((err: unknown) => {
          // handle() settles every path itself; reaching here is a bug, so give the message back rather than lose it.
          this.logger.error(`unexpected failure handling a message: ${errorMessage(err)}`);
          this.nack(channel, msg, this.logger);
        });
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
      { noAck: false },
    );
    this.consumerTag = reply.consumerTag;
    if (this.stopping) {
      // stop() ran while this setup was under way: undo the consume it could not see.
      await channel.cancel(reply.consumerTag);
      return;
    }
    this.logger.info(`consuming ${this.names.queue}`, { events: [...this.subscriptions.keys()], prefetch: this.prefetch });
  }

  /** Never rejects: every path ends in an ack, or a nack with requeue when even that is impossible. */
  private async handle(channel: Channel, publisher: ConfirmPublisher, msg: ConsumeMessage): Promise<void> {
    const props = msg.properties;
    const log = withContext(this.logger, {
      messageId: stringOrUndefined(props.messageId),
      correlationId: stringOrUndefined(props.correlationId),
      causationId: stringOrUndefined(props.headers?.[HEADER_CAUSATION_ID]),
      type: stringOrUndefined(props.type) ?? msg.fields.routingKey,
      redelivered: msg.fields.redelivered || undefined,
    });
    // Only catalogue types as label values: a stray message must not mint new time series.
    const claimed = stringOrUndefined(props.type) ?? msg.fields.routingKey;
    const metricsType = claimed in eventCatalogue ? claimed : 'unknown';
    const parsed = parseEnvelope(msg.content);
    if (!parsed.ok) {
      await this.park(channel, publisher, msg, parsed.reason, 'invalid', attemptOf(msg), log, metricsType);
      return;
    }
    const envelope = parsed.envelope;
    const subscription = this.subscriptions.get(envelope.type);
    if (!subscription) {
      await this.park(
        channel,
        publisher,
        msg,
        `no handler for ${envelope.type} in ${this.options.service}`,
        'no-handler',
        attemptOf(msg),
        log,
        envelope.type,
      );
      return;
    }
    const attempt = attemptOf(msg);
    const timer = this.options.metrics?.handlerDuration.startTimer({ type: envelope.type, handler: subscription.name });
    let outcome: Awaited<ReturnType<typeof dispatch>>;
    try {
      // The handling is a span of the saga's trace, continuing the publish that sent the message (DESIGN §4).
      outcome = await inSpan(
        this.options.service,
        `process ${envelope.type}`,
        {
          kind: 'consumer',
          parent: contextFrom(props.headers),
          attributes: {
            'messaging.system': 'rabbitmq',
            'messaging.message.id': envelope.id,
            'messaging.operation.name': subscription.name,
          },
        },
        () =>
          this.sagaLanes.run(envelope.correlationId, () =>
            dispatch({
              store: this.options.store,
              consumer: this.options.service,
              envelope,
              subscription,
              attempt,
              maxAttempts: this.maxAttempts,
              logger: this.options.logger,
            }),
          ),
      );
    } catch (err) {
      timer?.();
      const reason = truncate(errorMessage(err));
      if (attempt < this.maxAttempts) await this.retry(channel, publisher, msg, attempt, reason, log, envelope.type);
      else await this.park(channel, publisher, msg, reason, 'exhausted', attempt, log, envelope.type);
      return;
    }
    timer?.();
    // The unit of work committed: only now may the broker forget the message.
    if (this.ack(channel, msg, log)) this.options.metrics?.consumed.inc({ type: envelope.type, outcome });
  }

  private async retry(
    channel: Channel,
    publisher: ConfirmPublisher,
    msg: ConsumeMessage,
    attempt: number,
    reason: string,
    log: Logger,
    type: string,
  ): Promise<void> {
    const level = retryLevel(attempt, this.retryDelaysMs.length);
    const queue = this.names.retryQueue(level);
    const options = copyProperties(msg, { [HEADER_ATTEMPTS]: attempt + 1, [HEADER_LAST_ERROR]: reason });
    try {
      // Default exchange straight to the retry queue: only this service sees the retry, never the other consumers.
      await publisher.publishOne('', queue, msg.content, options);
    } catch (err) {
      log.error(`could not schedule retry: ${errorMessage(err)}; message requeued`, { attempt, error: reason });
      this.nack(channel, msg, log);
      return;
    }
    if (!this.ack(channel, msg, log)) return;
    log.warn(`handler failed (attempt ${attempt}/${this.maxAttempts}); retrying in ${this.retryDelaysMs[level - 1]} ms: ${reason}`, {
      attempt,
      retryQueue: queue,
    });
    this.options.metrics?.retried.inc({ type });
    this.options.metrics?.consumed.inc({ type, outcome: 'retried' });
  }

  private async park(
    channel: Channel,
    publisher: ConfirmPublisher,
    msg: ConsumeMessage,
    reason: string,
    cause: ParkingCause,
    attempt: number,
    log: Logger,
    type: string,
  ): Promise<void> {
    const options = copyProperties(msg, {
      [HEADER_PARKING_REASON]: truncate(reason),
      [HEADER_ATTEMPTS]: attempt,
      [HEADER_PARKED_AT]: new Date().toISOString(),
    });
    try {
      await publisher.publishOne('', this.names.dlq, msg.content, options);
    } catch (err) {
      log.error(`could not park message: ${errorMessage(err)}; message requeued`, { reason });
      this.nack(channel, msg, log);
      return;
    }
    if (!this.ack(channel, msg, log)) return;
    log.error(`message parked in ${this.names.dlq} (${cause}): ${reason}`, { attempt, cause });
    this.options.metrics?.deadLettered.inc({ type, reason: cause });
    this.options.metrics?.consumed.inc({ type, outcome: 'parked' });
  }

  /** False when the channel is gone: the broker redelivers the message on the next connection (the inbox absorbs it). */
  private ack(channel: Channel, msg: ConsumeMessage, log: Logger): boolean {
    try {
      channel.ack(msg);
      return true;
    } catch (err) {
      log.warn(`ack failed, the message will be redelivered: ${errorMessage(err)}`);
      return false;
    }
  }

  private nack(channel: Channel, msg: ConsumeMessage, log: Logger): void {
    try {
      channel.nack(msg, false, true);
    } catch (err) {
      log.warn(`nack failed, the message will be redelivered: ${errorMessage(err)}`);
    }
  }
}

/** The attempt a delivery represents: the x-attempts header set by the retry path, 1 when absent or unreadable. */
export function attemptOf(msg: ConsumeMessage): number {
  const raw: unknown = msg.properties.headers?.[HEADER_ATTEMPTS];
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** The original properties of a delivery, with extra headers; for republishing it to a retry or parking queue. */
export function copyProperties(msg: Pick<ConsumeMessage, 'properties'>, extraHeaders: Record<string, unknown>): Options.Publish {
  const p = msg.properties;
  const headers: Record<string, unknown> = { ...(p.headers ?? {}) };
  for (const h of BROKER_DEATH_HEADERS) delete headers[h];
  Object.assign(headers, extraHeaders);
  const options: Options.Publish = { headers, persistent: p.deliveryMode === undefined ? true : p.deliveryMode === 2 };
  const copy = <K extends keyof Options.Publish>(key: K, value: unknown) => {
    if (value !== undefined && value !== null) options[key] = value as Options.Publish[K];
  };
  copy('contentType', p.contentType);
  copy('contentEncoding', p.contentEncoding);
  copy('priority', p.priority);
  copy('correlationId', p.correlationId);
  copy('replyTo', p.replyTo);
  copy('messageId', p.messageId);
  copy('timestamp', p.timestamp);
  copy('type', p.type);
  copy('appId', p.appId);
  // Not `expiration`: a copy must not expire in the retry or parking queue. Not `userId`: the broker checks it.
  return options;
}

function truncate(s: string): string {
  return s.length > MAX_REASON_LENGTH ? `${s.slice(0, MAX_REASON_LENGTH - 1)}…` : s;
}
