// The wire format in one place: envelope → outbox row (DESIGN §5) → AMQP message (DESIGN §4), and back to the envelope.
import type { Options } from 'amqplib';
import type { Envelope } from './envelope';
import { eventCatalogue } from './events';
import { prefixedExchange } from './messaging/topology';
import { cloneDoc } from './store/query';
import type { FastPath, OutboxRecord } from './store/port';

export const HEADER_CAUSATION_ID = 'x-causation-id';
export const HEADER_EVENT_VERSION = 'x-event-version';
export const HEADER_ATTEMPTS = 'x-attempts';
export const HEADER_LAST_ERROR = 'x-last-error';
export const HEADER_PARKING_REASON = 'x-parking-reason';
export const HEADER_PARKED_AT = 'x-parked-at';

export interface AmqpMessage {
  /** Prefixed exchange name. */
  exchange: string;
  routingKey: string;
  content: Buffer;
  options: Options.Publish;
}

/** The envelope of DESIGN §4 rebuilt from its outbox row. */
export function envelopeOfRecord(record: OutboxRecord): Envelope {
  const env: Envelope = {
    id: record.id,
    type: record.type,
    version: record.headers.version,
    occurredAt: record.occurredAt.toISOString(),
    source: record.headers.source,
    correlationId: record.headers.correlationId,
    payload: record.payload as Envelope['payload'],
  };
  if (record.headers.causationId !== undefined) env.causationId = record.headers.causationId;
  return env;
}

/** AMQP properties mirroring an envelope, so the management UI shows ids, type, source and time (DESIGN §4). */
export function propertiesOf(env: Envelope): Options.Publish {
  const headers: Record<string, unknown> = { [HEADER_EVENT_VERSION]: env.version };
  if (env.causationId !== undefined) headers[HEADER_CAUSATION_ID] = env.causationId;
  return {
    persistent: true,
    contentType: 'application/json',
    messageId: env.id,
    type: env.type,
    correlationId: env.correlationId,
    // AMQP timestamps are seconds since the epoch.
    timestamp: Math.floor(Date.parse(env.occurredAt) / 1000),
    appId: env.source,
    headers,
  };
}

/** The record → AMQP message mapping (the record keeps its exchange unprefixed; BROKER_PREFIX is added here). */
export function toAmqpMessage(record: OutboxRecord, prefix: string): AmqpMessage {
  const env = envelopeOfRecord(record);
  return {
    exchange: prefixedExchange(prefix, record.exchange),
    routingKey: record.routingKey,
    content: Buffer.from(JSON.stringify(env)),
    options: propertiesOf(env),
  };
}

/** The outbox row of DESIGN §5 for an envelope; the exchange is unprefixed (BROKER_PREFIX belongs to messaging). */
export function outboxRecordOf(envelope: Envelope, fastPath?: FastPath | null, now = Date.now()): OutboxRecord {
  const headers: OutboxRecord['headers'] = {
    version: envelope.version,
    source: envelope.source,
    correlationId: envelope.correlationId,
  };
  if (envelope.causationId !== undefined) headers.causationId = envelope.causationId;
  return {
    id: envelope.id,
    type: envelope.type,
    exchange: eventCatalogue[envelope.type].exchange,
    routingKey: envelope.type,
    headers,
    payload: cloneDoc(envelope.payload),
    occurredAt: new Date(envelope.occurredAt),
    status: 'PENDING',
    attempts: 0,
    // Written already leased to this process's relay (the fast path), so no other relay claims it while it is published.
    lockedBy: fastPath ? fastPath.relayId : null,
    lockedUntil: fastPath ? new Date(now + fastPath.leaseMs) : null,
    dispatchedAt: null,
  };
}
