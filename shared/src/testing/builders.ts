// Small builders for tests: envelopes as another service publishes them, the people they name, and a silent logger.
import { randomUUID } from 'node:crypto';
import { createEnvelope, type Envelope, type NewEventInput } from '../envelope';
import type { EventType, PayloadOf, PersonRef } from '../events';
import type { ServiceName } from '../http/types';
import { createLogger, type Logger } from '../logger';

/** What createEnvelope would otherwise choose: a fresh id, now, and the ride as the correlation id. */
export type EnvelopeOptions = Partial<Pick<NewEventInput<EventType>, 'id' | 'occurredAt' | 'correlationId' | 'causationId'>>;

/** An event as `source` publishes it: correlated by its ride, validated against the catalogue like every producer's. */
export function envelopeOf<T extends EventType>(
  type: T,
  payload: PayloadOf<T>,
  source: ServiceName,
  options: EnvelopeOptions = {},
): Envelope<T> {
  const { correlationId = payload.rideId, ...rest } = options;
  return createEnvelope({ type, payload, source, correlationId, ...rest });
}

/** The same fact published again under a new message id (a republish, not a redelivery: the inbox does not know it). */
export function republished<E extends Envelope>(env: E): E {
  return { ...env, id: randomUUID() };
}

export function aRider(overrides: Partial<PersonRef> = {}): PersonRef {
  const id = overrides.id ?? `rider-${randomUUID()}`;
  return { id, name: 'Ada Rider', email: `${id}@example.com`, ...overrides };
}

export function aDriver(overrides: Partial<PersonRef> = {}): PersonRef {
  const id = overrides.id ?? `driver-${randomUUID()}`;
  return { id, name: 'Dan Driver', email: `${id}@example.com`, ...overrides };
}

/** Silent: a test that provokes a failure asserts on it instead of printing it. */
export function silentLogger(service = 'test'): Logger {
  return Object.assign(createLogger(service, 'error'), { silent: true });
}
