// What a service's message handler looks like: it gets the typed envelope and runs its effects "once" through the inbox.
import type { Envelope } from '../envelope';
import type { EventType, PayloadOf } from '../events';
import type { Logger } from '../logger';
import type { Store, Transaction } from '../store/port';
import type { Emit } from './emit';

/** The unit of work a handler writes through: repositories, and `emit` which adds a caused event to the outbox. */
export interface UnitOfWork {
  tx: Transaction;
  /** Emits an event caused by the message being handled (correlationId and causationId are filled in). */
  emit: Emit;
}

export type OnceResult<R> = { duplicate: false; value: R } | { duplicate: true };

export interface MessageContext<T extends EventType> {
  envelope: Envelope<T>;
  /** 1 on first delivery; grows with each retry. */
  attempt: number;
  maxAttempts: number;
  readonly isLastAttempt: boolean;
  logger: Logger;
  /**
   * The service's store, for work that must happen outside the inbox transaction: reads that plan an external call
   * (a payment gateway, an SMTP server) and records that must survive a failed attempt. Effects that answer the
   * message still go through `once`.
   */
  store: Store;
  /**
   * Runs `work` and the inbox record "this consumer processed this message" in one transaction. A message processed
   * before is reported as `{duplicate: true}` and nothing of `work` is committed.
   */
  once<R>(work: (uow: UnitOfWork) => Promise<R>): Promise<OnceResult<R>>;
  /**
   * Runs `work` in a transaction without the inbox record: for what must commit whatever happens to the message
   * (the outcome of an email already sent before a retry). Its events are caused by the message all the same.
   */
  outsideInbox<R>(work: (uow: UnitOfWork) => Promise<R>): Promise<R>;
}

/** Throwing means "retry me"; business failures are events, not exceptions. */
export type EventHandler<T extends EventType> = (ctx: MessageContext<T>) => Promise<void>;

export interface Subscription<T extends EventType = EventType> {
  event: T;
  /** The handler's name, for logs and metrics (e.g. `reserveDriverOnRideRequested`). */
  name: string;
  // Method syntax on purpose: a list of subscriptions to different events must type-check as one array.
  handle(ctx: MessageContext<T>): Promise<void>;
}

/** Any one subscription, whatever its event. */
export type AnySubscription = { [T in EventType]: Subscription<T> }[EventType];

/** Declares one subscription; a service's main.ts lists them all, which is its "reacts to → emits" table. */
export function on<T extends EventType>(event: T, name: string, handle: EventHandler<T>): Subscription<T> {
  return { event, name, handle };
}

/** The common case: the whole handler is one inbox transaction. */
export function transactional<T extends EventType>(
  work: (payload: PayloadOf<T>, uow: UnitOfWork, ctx: MessageContext<T>) => Promise<void>,
): EventHandler<T> {
  return async (ctx) => {
    const result = await ctx.once((uow) => work(ctx.envelope.payload, uow, ctx));
    if (result.duplicate) ctx.logger.info('duplicate message acknowledged without effect');
  };
}
