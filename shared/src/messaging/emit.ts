// The one emit path: every event a service emits becomes an envelope here and goes to the outbox of the unit of work.
import { createEnvelope } from '../envelope';
import type { EventType, PayloadOf } from '../events';
import type { Transaction } from '../store/port';
import { traceContextOf, type TraceContext } from '../tracing';

/** What caused the events: the emitting service, the saga, and the message that caused them (none for HTTP). */
export interface Cause {
  source: string;
  correlationId: string;
  causationId?: string;
}

export type Emit = <E extends EventType>(type: E, payload: PayloadOf<E>, options?: { correlationId?: string }) => Promise<void>;

/** An `emit` that adds each event, as an envelope caused by `cause`, to `tx`'s outbox. */
export function emitter(tx: Transaction, cause: Cause): Emit {
  // The span at work now (the HTTP request, the handled message) is the parent of every event's publish: the same one
  // for the whole unit of work, so it is read once, when the first event is emitted.
  let trace: TraceContext | undefined;
  return async (type, payload, options) => {
    trace ??= traceContextOf();
    await tx.outbox.add(
      createEnvelope({
        type,
        payload,
        source: cause.source,
        correlationId: options?.correlationId ?? cause.correlationId,
        ...(cause.causationId !== undefined ? { causationId: cause.causationId } : {}),
      }),
      trace,
    );
  };
}
