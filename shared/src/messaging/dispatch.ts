// Runs one validated message through its handler with the inbox: effects, outgoing events and the inbox record commit together.
import type { AnyEnvelope, Envelope } from '../envelope';
import { DuplicateMessageError } from '../errors';
import type { EventType } from '../events';
import { withContext, type Logger } from '../logger';
import type { Store } from '../store/port';
import { emitter } from './emit';
import type { AnySubscription, MessageContext, OnceResult, Subscription, UnitOfWork } from './handler';

export interface DispatchInput {
  store: Store;
  /** The consuming service's name: the inbox key is (consumer, message id). */
  consumer: string;
  envelope: AnyEnvelope;
  subscription: AnySubscription;
  attempt?: number;
  maxAttempts?: number;
  logger: Logger;
}

export type DispatchOutcome = 'processed' | 'duplicate';

/** Calls the subscription's handler; resolves when its unit of work committed (or the message was a duplicate). */
export async function dispatch(input: DispatchInput): Promise<DispatchOutcome> {
  const { store, consumer, envelope } = input;
  const attempt = input.attempt ?? 1;
  const maxAttempts = input.maxAttempts ?? 1;
  const logger = withContext(input.logger, {
    correlationId: envelope.correlationId,
    messageId: envelope.id,
    causationId: envelope.causationId,
    type: envelope.type,
    handler: input.subscription.name,
    attempt,
  });
  let duplicate = false;
  const cause = { source: consumer, correlationId: envelope.correlationId, causationId: envelope.id };
  const ctx: MessageContext<EventType> = {
    envelope: envelope as Envelope<EventType>,
    attempt,
    maxAttempts,
    isLastAttempt: attempt >= maxAttempts,
    logger,
    store,
    async once<R>(work: (uow: UnitOfWork) => Promise<R>): Promise<OnceResult<R>> {
      try {
        const value = await store.run(async (tx) => {
          // The inbox record goes first: on a duplicate the transaction aborts before any effect is attempted.
          await tx.inbox.record(consumer, envelope.id, envelope.type);
          return work({ tx, emit: emitter(tx, cause) });
        });
        return { duplicate: false, value };
      } catch (err) {
        // Caught outside the transaction on purpose (DRIVERS-2584): the duplicate-key error aborted it cleanly.
        if (err instanceof DuplicateMessageError) {
          duplicate = true;
          return { duplicate: true };
        }
        throw err;
      }
    },
    outsideInbox<R>(work: (uow: UnitOfWork) => Promise<R>): Promise<R> {
      return store.run((tx) => work({ tx, emit: emitter(tx, cause) }));
    },
  };
  await (input.subscription as Subscription<EventType>).handle(ctx);
  return duplicate ? 'duplicate' : 'processed';
}
