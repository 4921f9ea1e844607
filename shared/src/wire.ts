// The wire format in one place: envelope → outbox row (DESIGN §5) → AMQP message (DESIGN §4), and back to the envelope.
import type { Options } from 'amqplib';
import type { Envelope } from './envelope';
import { eventCatalogue } from './events';
import { prefixedExchange } from './messaging/topology';
import { cloneDoc } from './store/query';
import type { FastPath, OutboxRecord } from './store/port';
import type { TraceContext } from './tracing';

export const HEADER_CAUSATION_ID = 'x-causation-id';
const HEADER_EVENT_VERSION = 'x-event-version';
export const HEADER_ATTEMPTS = 'x-attempts';
export const HEADER_LAST_ERROR = 'x-last-error';
export const HEADER_PARKING_REASON = 'x-parking-reason';
export const HEADER_PARKED_AT = 'x-parked-at';
export const HEADER_TRACEPARENT = 'traceparent';
export const HEADER_TRACESTATE = 'tracestate';

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

/**
 * AMQP properties mirroring an envelope, so the management UI shows ids, type, source and time (DESIGN §4), with the
 * W3C trace context of the publish.
 */
export function propertiesOf(
  env: Pick<Envelope, 'id' | 'version' | 'occurredAt' | 'source' | 'correlationId' | 'causationId'> & { type: string },
  trace: TraceContext = {},
): Options.Publish {
  const headers: Record<string, unknown> = { [HEADER_EVENT_VERSION]: env.version };
  if (env.causationId !== undefined) headers[HEADER_CAUSATION_ID] = env.causationId;
  if (trace.traceparent !== undefined) headers[HEADER_TRACEPARENT] = trace.traceparent;
  if (trace.tracestate !== undefined) headers[HEADER_TRACESTATE] = trace.tracestate;
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

/**
 * The record → AMQP message mapping (the record keeps its exchange unprefixed; BROKER_PREFIX is added here). `trace` is
 * the publish's own context (a child of the one the row kept); without it the row's is carried on.
 */
export function toAmqpMessage(record: OutboxRecord, prefix: string, trace?: TraceContext): AmqpMessage {
  const env = envelopeOfRecord(record);
  return {
    exchange: prefixedExchange(prefix, record.exchange),
    routingKey: record.routingKey,
    content: Buffer.from(JSON.stringify(env)),
    options: propertiesOf(env, trace ?? traceOfRecord(record)),
  };
}

/** The trace context of the work that wrote the row. */
export function traceOfRecord(record: OutboxRecord): TraceContext {
  const out: TraceContext = {};
  if (record.headers.traceparent !== undefined) out.traceparent = record.headers.traceparent;
  if (record.headers.tracestate !== undefined) out.tracestate = record.headers.tracestate;
  return out;
}

/** The outbox row of DESIGN §5 for an envelope; the exchange is unprefixed (BROKER_PREFIX belongs to messaging). */
export function outboxRecordOf(envelope: Envelope, fastPath?: FastPath | null, trace: TraceContext = {}, now = Date.now()): OutboxRecord {
  const headers: OutboxRecord['headers'] = {
    version: envelope.version,
    source: envelope.source,
    correlationId: envelope.correlationId,
  };
  if (envelope.causationId !== undefined) headers.causationId = envelope.causationId;
  // The trace context of the work that emitted it, kept so the relay's publish continues that trace (DESIGN §4).
  if (trace.traceparent !== undefined) headers.traceparent = trace.traceparent;
  if (trace.tracestate !== undefined) headers.tracestate = trace.tracestate;
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

/** An AMQP property or header as text (amqplib gives strings, or Buffers for some headers); empty counts as absent. */
export function stringOrUndefined(v: unknown): string | undefined {
  if (typeof v === 'string' && v.length > 0) return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return undefined;
}
