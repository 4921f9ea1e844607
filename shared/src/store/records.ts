// Builds the stored outbox row (DESIGN §5) from an envelope; shared by both store adapters.
import type { Envelope } from '../envelope';
import { eventCatalogue } from '../events';
import type { FastPath, OutboxRecord } from './port';
import { cloneDoc } from './query';

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
