// Parked messages (DESIGN §7): read a service's parking queue, and replay or purge a filtered set without ever losing one.
import type { ChannelModel, ConfirmChannel, GetMessage } from 'amqplib';
import { eventCatalogue, type EventType } from '../events';
import { errorMessage } from '../logger';
import { copyProperties } from './consumer';
import { HEADER_ATTEMPTS, HEADER_PARKED_AT, HEADER_PARKING_REASON, stringOrUndefined } from '../wire';
import { ConfirmPublisher } from './publisher';
import { names, prefixedExchange } from './topology';

/** Set on a replayed copy: when, from which parking queue, and why it had been parked. */
const HEADER_REPLAYED_AT = 'x-replayed-at';
export const HEADER_REPLAYED_FROM = 'x-replayed-from';
const HEADER_REPLAYED_REASON = 'x-replayed-parking-reason';

export interface ParkedMessage {
  service: string;
  queue: string;
  messageId: string | undefined;
  type: string | undefined;
  /** The ride (the saga's correlation id). */
  rideId: string | undefined;
  reason: string | undefined;
  attempts: number | undefined;
  /** When it was parked (the `x-parked-at` header; the publish time for messages parked before it existed). */
  parkedAt: Date | undefined;
  body: string;
  headers: Record<string, unknown>;
}

export interface ParkedFilter {
  type?: string;
  rideId?: string;
  messageId?: string;
  /** A substring of the parking reason (case-insensitive). */
  reason?: string;
  /** Parked at least this long ago. */
  olderThanMs?: number;
  /** Parked at most this long ago. */
  newerThanMs?: number;
  /** At most this many matches. */
  limit?: number;
}

export type ParkedAction = 'list' | 'replay' | 'purge';

export interface ParkedOutcome {
  matched: ParkedMessage[];
  /** Replayed (copy confirmed on the original exchange, parked one removed) or purged. */
  done: ParkedMessage[];
  /** Matched but not replayable (no known original exchange), left parked. */
  skipped: Array<{ message: ParkedMessage; why: string }>;
  /** Messages in the queue that did not match, left parked. */
  untouched: number;
}

function describe(service: string, queue: string, msg: GetMessage): ParkedMessage {
  const p = msg.properties;
  const headers = (p.headers ?? {}) as Record<string, unknown>;
  const attempts = Number(headers[HEADER_ATTEMPTS]);
  const parkedAt = stringOrUndefined(headers[HEADER_PARKED_AT]);
  const timestamp = typeof p.timestamp === 'number' ? new Date(p.timestamp * 1000) : undefined;
  return {
    service,
    queue,
    messageId: stringOrUndefined(p.messageId),
    type: stringOrUndefined(p.type),
    rideId: stringOrUndefined(p.correlationId),
    reason: stringOrUndefined(headers[HEADER_PARKING_REASON]),
    attempts: Number.isFinite(attempts) ? attempts : undefined,
    parkedAt: parkedAt !== undefined && !Number.isNaN(Date.parse(parkedAt)) ? new Date(parkedAt) : timestamp,
    body: msg.content.toString('utf8'),
    headers,
  };
}

export function matchesParked(m: ParkedMessage, f: ParkedFilter, now = Date.now()): boolean {
  if (f.type !== undefined && m.type !== f.type) return false;
  if (f.rideId !== undefined && m.rideId !== f.rideId) return false;
  if (f.messageId !== undefined && m.messageId !== f.messageId) return false;
  if (f.reason !== undefined && !(m.reason ?? '').toLowerCase().includes(f.reason.toLowerCase())) return false;
  const age = m.parkedAt ? now - m.parkedAt.getTime() : undefined;
  if (f.olderThanMs !== undefined && (age === undefined || age < f.olderThanMs)) return false;
  if (f.newerThanMs !== undefined && (age === undefined || age > f.newerThanMs)) return false;
  return true;
}

/**
 * Takes every message of `<prefix><service>.dlq` (unacknowledged, so a crash of this process gives them all back),
 * acts on the ones that match, and returns the rest to the queue. A replay publishes a copy to the event's original
 * exchange with its routing key (DESIGN §7), waits for the broker's confirm, and only then removes the parked one: an
 * interruption in between leaves a copy and the original, never neither; the consumers' inboxes absorb the extra copy.
 * With `dryRun` nothing is published or removed.
 */
export async function handleParked(
  connection: ChannelModel,
  options: { prefix: string; service: string; action: ParkedAction; filter: ParkedFilter; dryRun: boolean },
): Promise<ParkedOutcome> {
  const queue = names(options.prefix, options.service).dlq;
  const outcome: ParkedOutcome = { matched: [], done: [], skipped: [], untouched: 0 };
  if (!(await queueExists(connection, queue))) return outcome;
  const channel: ConfirmChannel = await connection.createConfirmChannel();
  const publisher = new ConfirmPublisher(channel, options.prefix);
  const held: GetMessage[] = [];
  try {
    const now = Date.now();
    for (;;) {
      const msg = await channel.get(queue, { noAck: false });
      if (msg === false) break;
      held.push(msg);
      const parked = describe(options.service, queue, msg);
      const limitReached = options.filter.limit !== undefined && outcome.matched.length >= options.filter.limit;
      if (limitReached || !matchesParked(parked, options.filter, now)) {
        outcome.untouched += 1;
        continue;
      }
      outcome.matched.push(parked);
      if (options.action === 'list' || options.dryRun) continue;
      if (options.action === 'purge') {
        channel.ack(msg);
        held.pop();
        outcome.done.push(parked);
        continue;
      }
      const exchange =
        parked.type !== undefined && parked.type in eventCatalogue ? eventCatalogue[parked.type as EventType].exchange : null;
      if (exchange === null) {
        outcome.skipped.push({ message: parked, why: `unknown event type ${parked.type ?? '(none)'}: no original exchange to replay to` });
        continue;
      }
      const props = copyProperties(msg, {
        [HEADER_REPLAYED_AT]: new Date().toISOString(),
        [HEADER_REPLAYED_FROM]: queue,
        [HEADER_REPLAYED_REASON]: parked.reason ?? '',
      });
      // A fresh start: the retry path counts attempts from x-attempts, and a replayed copy is not parked.
      const headers = { ...(props.headers as Record<string, unknown>) };
      delete headers[HEADER_ATTEMPTS];
      delete headers[HEADER_PARKING_REASON];
      delete headers[HEADER_PARKED_AT];
      try {
        await publisher.publishOne(prefixedExchange(options.prefix, exchange), parked.type as string, msg.content, { ...props, headers });
      } catch (err) {
        throw new Error(`the broker refused the replayed copy of ${parked.messageId ?? '?'}: ${errorMessage(err)}`, { cause: err });
      }
      channel.ack(msg);
      held.pop();
      outcome.done.push(parked);
    }
  } finally {
    // Everything not acted on goes back to the parking queue (in the order it came).
    for (const m of held) channel.nack(m, false, true);
    await channel.close();
  }
  return outcome;
}

/** A missing queue closes the channel that asks: ask on one of its own. */
async function queueExists(connection: ChannelModel, queue: string): Promise<boolean> {
  const probe = await connection.createChannel();
  // The failed check also arrives as the channel's 'error' event; the rejected promise below is where it is handled.
  probe.on('error', () => undefined);
  try {
    await probe.checkQueue(queue);
    await probe.close();
    return true;
  } catch (err) {
    if (/NOT_FOUND/.test(errorMessage(err))) return false;
    throw err;
  }
}
