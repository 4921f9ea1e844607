// The one emit path: every event a service emits becomes an envelope here and goes to the outbox of the unit of work.
import { createEnvelope } from '../envelope';
import type { EventType, PayloadOf } from '../events';
import type { Transaction } from '../store/port';
import { traceContextOf } from '../tracing';

/** What caused the events: the emitting service, the saga, and the message that caused them (none for HTTP). */
export interface Cause {
  source: string;
  correlationId: string;
  causationId?: string;
}

export type Emit = <E extends EventType>(type: E, payload: PayloadOf<E>, options?: { correlationId?: string }) => Promise<void>;

/** An `emit` that adds each event, as an envelope caused by `cause`, to `tx`'s outbox. */
export function emitter(tx: Transaction, cause: Cause): Emit {
  return async (type, payload, options) => {
    await tx.outbox.add(
      createEnvelope({
        type,
        payload,
        source: cause.source,
        correlationId: options?.correlationId ?? cause.correlationId,
        ...(cause.causationId !== undefined ? { causationId: cause.causationId } : {}),
      }),
      // The span at work now (the HTTP request, the handled message) is the parent of the event's publish.
      traceContextOf(),
    );
  };
}
