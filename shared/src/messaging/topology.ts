// The broker topology of DESIGN §4: exchange per publisher, queue per consumer, TTL retry queues and a parking queue.
import type { Channel } from 'amqplib';
import { SetupBlockedError } from './connection';
import type { QueueType } from '../config';
import { eventCatalogue, type EventType } from '../events';

/** Defaults of DESIGN §4 (also the defaults of MAX_ATTEMPTS / RETRY_DELAYS_MS in config.ts). */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [1_000, 5_000, 25_000, 60_000];
export const DEFAULT_MAX_ATTEMPTS = 5;

export interface ServiceNames {
  /** The consuming service's durable queue: `<prefix><service>`. */
  queue: string;
  /** The parking queue: `<prefix><service>.dlq`. */
  dlq: string;
  /** Retry queue of a 1-based delay level: `<prefix><service>.retry.<level>`. */
  retryQueue(level: number): string;
  /** An exchange name with the prefix, e.g. `t1.` + `ride.events`. */
  exchange(name: string): string;
}

/** BROKER_PREFIX is prepended as it is: `t1.` gives `t1.ride.events` and `t1.driver-service.dlq`. */
export function names(prefix: string, service: string): ServiceNames {
  return {
    queue: `${prefix}${service}`,
    dlq: `${prefix}${service}.dlq`,
    retryQueue: (level: number) => `${prefix}${service}.retry.${level}`,
    exchange: (name: string) => `${prefix}${name}`,
  };
}

export function prefixedExchange(prefix: string, exchange: string): string {
  return `${prefix}${exchange}`;
}

/** The retry level a failed attempt goes to: attempt 1 waits the first delay, later attempts the longer ones. */
export function retryLevel(attempt: number, delaysCount: number): number {
  return Math.max(1, Math.min(attempt, delaysCount));
}

export interface ServiceTopologyOptions {
  prefix: string;
  service: string;
  /** The unprefixed exchange this service publishes to (declared even before it publishes anything). */
  exchange: string;
  /** The event types it consumes; the queue is bound to each one's publishing exchange with routing key = type. */
  events: readonly EventType[];
  retryDelaysMs?: readonly number[];
  /** QUEUE_TYPE: quorum (the default) or classic. */
  queueType?: QueueType;
}

export interface DeclaredTopology extends ServiceNames {
  exchanges: string[];
  retryQueues: string[];
  bindings: { exchange: string; routingKey: string }[];
}

export const EXCHANGE_TYPE = 'topic';

/** The arguments of the service queue and the parking queue. Classic is declared as it always was (no argument). */
export function queueArguments(queueType: QueueType = 'quorum'): Record<string, unknown> {
  return queueType === 'quorum' ? { 'x-queue-type': 'quorum' } : {};
}

/**
 * The arguments of a retry queue: its TTL dead-letters the message back to the service queue. As quorum queues
 * (RabbitMQ 3.10+: message TTL and at-least-once dead-lettering), the broker keeps each expired message until the
 * service queue confirmed it, so the move survives the loss of a node; at-least-once needs `reject-publish` (with
 * the default drop-head the broker falls back to at-most-once). No length limit is set, so nothing is ever rejected.
 */
export function retryQueueArguments(delayMs: number, serviceQueue: string, queueType: QueueType = 'quorum'): Record<string, unknown> {
  const base = { 'x-message-ttl': delayMs, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': serviceQueue };
  if (queueType === 'classic') return base;
  return { 'x-queue-type': 'quorum', ...base, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' };
}

/**
 * Declares (idempotently) everything a service needs. The retry path is plain RabbitMQ: a failed message is
 * republished to `<service>.retry.<n>`, whose TTL dead-letters it through the default exchange back to `<service>`,
 * so only this service sees the retry. Declaring a queue that exists with other arguments (e.g. changed delays, or
 * a classic queue of the same name under QUEUE_TYPE=quorum) fails with PRECONDITION_FAILED: delete the old queues.
 */
export async function declareServiceTopology(channel: Channel, options: ServiceTopologyOptions): Promise<DeclaredTopology> {
  const n = names(options.prefix, options.service);
  const delays = options.retryDelaysMs && options.retryDelaysMs.length > 0 ? options.retryDelaysMs : DEFAULT_RETRY_DELAYS_MS;
  const exchanges = new Set<string>([n.exchange(options.exchange)]);
  const bindings: { exchange: string; routingKey: string }[] = [];
  for (const type of new Set(options.events)) {
    const exchange = n.exchange(eventCatalogue[type].exchange);
    exchanges.add(exchange);
    bindings.push({ exchange, routingKey: type });
  }
  for (const exchange of exchanges) await channel.assertExchange(exchange, EXCHANGE_TYPE, { durable: true });

  const queueType = options.queueType ?? 'quorum';
  await assertQueue(channel, n.queue, queueArguments(queueType));
  for (const b of bindings) await channel.bindQueue(n.queue, b.exchange, b.routingKey);

  const retryQueues: string[] = [];
  for (const [i, delay] of delays.entries()) {
    const queue = n.retryQueue(i + 1);
    await assertQueue(channel, queue, retryQueueArguments(delay, n.queue, queueType));
    retryQueues.push(queue);
  }
  await assertQueue(channel, n.dlq, queueArguments(queueType));
  return { ...n, exchanges: [...exchanges], retryQueues, bindings };
}

/**
 * A queue that exists with other arguments will not heal by reconnecting: it is the remains of an older setup (a
 * classic queue under QUEUE_TYPE=quorum, other retry delays). Retrying quietly would leave the service unready for
 * ever, so this names the queue and the remedy.
 */
export class TopologyConflictError extends SetupBlockedError {
  constructor(
    readonly queue: string,
    brokerMessage: string,
  ) {
    super(
      `queue ${queue} already exists with other arguments than this service declares (${brokerMessage}); it is left ` +
        `from an older setup (e.g. a classic queue, now that QUEUE_TYPE defaults to quorum, or other RETRY_DELAYS_MS). ` +
        `Delete it if it holds nothing you need (rabbitmqctl delete_queue '${queue}', or the management UI), ` +
        `or run with another BROKER_PREFIX`,
    );
    this.name = 'TopologyConflictError';
  }
}

/** amqplib's channel error for a redeclaration with other arguments: AMQP 406 PRECONDITION_FAILED. */
function isPreconditionFailed(err: unknown): err is Error {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 406;
}

async function assertQueue(channel: Channel, queue: string, args: Record<string, unknown>): Promise<void> {
  try {
    await channel.assertQueue(queue, { durable: true, arguments: args });
  } catch (err) {
    throw isPreconditionFailed(err) ? new TopologyConflictError(queue, err.message) : err;
  }
}
