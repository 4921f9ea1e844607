// A service's handlers over a store, fed as its consumer feeds them, with the events they emitted read back from the outbox.
import type { AnyEnvelope } from '../envelope';
import type { EventType, PayloadOf } from '../events';
import { dispatch, type DispatchOutcome } from '../messaging/dispatch';
import type { AnySubscription } from '../messaging/handler';
import { DEFAULT_MAX_ATTEMPTS } from '../messaging/topology';
import { MemoryStore } from '../store/memory';
import type { CollectionSpec, OutboxRecord, Store } from '../store/port';
import { foldAllLedger, type AnySummaryLedger } from '../store/summaryLedger';
import { silentLogger } from './builders';

export interface HandlerHarnessOptions {
  /** The consuming service: its inbox is keyed by this name. */
  service: string;
  /** Its "reacts to → emits" table, built with the deps the test wants (a pinned clock, a gateway that fails...). */
  subscriptions: AnySubscription[];
  collections: CollectionSpec[];
  /** Summaries kept from ledger rows: their collections are created and `fold()` folds them. */
  ledgers?: AnySummaryLedger[];
  /** Another store to run over (e.g. a MongoStore); a fresh in-memory one by default. */
  store?: Store;
}

/** An event taken from the outbox, its headers' ids at hand. */
export interface EmittedEvent<P = Record<string, unknown>> {
  id: string;
  type: EventType;
  exchange: string;
  routingKey: string;
  headers: OutboxRecord['headers'];
  payload: P;
  correlationId: string;
  causationId?: string;
}

const RELAY = 'test';

function emittedEvent(r: OutboxRecord): EmittedEvent {
  return {
    id: r.id,
    type: r.type,
    exchange: r.exchange,
    routingKey: r.routingKey,
    headers: r.headers,
    payload: r.payload as Record<string, unknown>,
    correlationId: r.headers.correlationId,
    ...(r.headers.causationId !== undefined ? { causationId: r.headers.causationId } : {}),
  };
}

/** Deliver messages through the inbox, one unit of work each, exactly as the consumer does; read what was emitted. */
export class HandlerHarness {
  readonly store: Store;
  readonly logger = silentLogger();
  private readonly taken: EmittedEvent[] = [];
  private seen = 0;

  constructor(private readonly setup: HandlerHarnessOptions) {
    this.store = setup.store ?? new MemoryStore({ name: `${setup.service}-test` });
  }

  /** Creates the collections and indexes, as the runtime does before it consumes. */
  async init(): Promise<this> {
    await this.store.init([...this.setup.collections, ...(this.setup.ledgers ?? []).map((l) => l.entries)]);
    return this;
  }

  /** Delivers one message to the handler of its type: attempt 1 of the consumer's default unless told. */
  async deliver(envelope: AnyEnvelope, attempt = 1, maxAttempts = DEFAULT_MAX_ATTEMPTS): Promise<DispatchOutcome> {
    const subscription = this.setup.subscriptions.find((s) => s.event === envelope.type);
    if (!subscription) throw new Error(`${this.setup.service} does not consume ${envelope.type}`);
    return dispatch({ store: this.store, consumer: this.setup.service, envelope, subscription, attempt, maxAttempts, logger: this.logger });
  }

  /** Every event emitted so far, in outbox order. */
  async events(): Promise<EmittedEvent[]> {
    await this.takeOutbox();
    return [...this.taken];
  }

  async eventsOf<T extends EventType>(type: T): Promise<EmittedEvent<PayloadOf<T>>[]> {
    return (await this.events()).filter((e): e is EmittedEvent<PayloadOf<T>> => e.type === type);
  }

  /** The events emitted since the last call, oldest first. */
  async emitted(): Promise<EmittedEvent[]> {
    await this.takeOutbox();
    const fresh = this.taken.slice(this.seen);
    this.seen = this.taken.length;
    return fresh;
  }

  async emittedTypes(): Promise<EventType[]> {
    return (await this.emitted()).map((e) => e.type);
  }

  /** Folds every ledger row into the stored summaries, as the service does shortly after each change. */
  async fold(): Promise<void> {
    for (const ledger of this.setup.ledgers ?? []) await foldAllLedger(this.store, ledger);
  }

  /** Takes what waits in the outbox, as the relay would, so each event is read once whatever asks next. */
  private async takeOutbox(): Promise<void> {
    const batch = await this.store.outbox.claim(RELAY, 10_000, 60_000);
    await this.store.outbox.markDispatched(
      RELAY,
      batch.map((r) => r.id),
    );
    this.taken.push(...batch.map(emittedEvent));
  }
}
