// A consuming "service" for the messaging tests: store, connection manager, consumer and (optionally) relay, as the runtime wires them.
import type { Counter } from 'prom-client';
import { AmqpConnectionManager } from '../../src/messaging/connection';
import { MessageConsumer } from '../../src/messaging/consumer';
import type { AnySubscription } from '../../src/messaging/handler';
import { OutboxRelay } from '../../src/messaging/relay';
import { createMetrics, type Metrics } from '../../src/metrics';
import { MemoryStore } from '../../src/store/memory';
import { defineCollection, type Versioned } from '../../src/store/port';
import type { BrokerContext } from './support';
import { testLogger } from './support';

/** What a test handler writes: one row per effect, so a duplicate effect shows as a second row. */
export interface Effect extends Versioned {
  rideId: string;
  messageId: string;
}
export const effects = defineCollection<Effect>('effects');

export interface TestService {
  service: string;
  store: MemoryStore;
  metrics: Metrics;
  connection: AmqpConnectionManager;
  consumer: MessageConsumer;
  relay: OutboxRelay | null;
  stop(): Promise<void>;
}

export interface TestServiceOptions {
  service: string;
  subscriptions: AnySubscription[];
  maxAttempts?: number;
  retryDelaysMs?: number[];
  withRelay?: boolean;
  store?: MemoryStore;
  prefetch?: number;
}

export async function startTestService(ctx: BrokerContext, options: TestServiceOptions): Promise<TestService> {
  const logger = testLogger(options.service);
  const store = options.store ?? new MemoryStore({ name: options.service });
  await store.init([effects]);
  const metrics = createMetrics(options.service);
  const connection = new AmqpConnectionManager({
    url: ctx.broker.url,
    logger,
    name: `${ctx.prefix}${options.service}`,
    maxBackoffMs: 1_000,
  });
  const consumer = new MessageConsumer({
    connection,
    store,
    service: options.service,
    prefix: ctx.prefix,
    exchange: 'ride.events',
    subscriptions: options.subscriptions,
    maxAttempts: options.maxAttempts ?? 5,
    retryDelaysMs: options.retryDelaysMs ?? [200, 400],
    prefetch: options.prefetch ?? 16,
    logger,
    metrics,
  });
  await consumer.start();
  const relay = options.withRelay
    ? new OutboxRelay({
        connection,
        outbox: store.outbox,
        prefix: ctx.prefix,
        logger,
        metrics,
        pollIntervalMs: 200,
        minBackoffMs: 100,
        maxBackoffMs: 1_000,
      })
    : null;
  relay?.start();
  connection.start();
  await connection.waitUntilConnected(15_000);
  return {
    service: options.service,
    store,
    metrics,
    connection,
    consumer,
    relay,
    async stop() {
      await consumer.stop();
      await relay?.stop();
      await connection.close();
      await store.close();
    },
  };
}

/** The value of a counter for the given labels (0 when never incremented). */
export async function counterValue<L extends string>(counter: Counter<L>, labels: Partial<Record<L, string>> = {}): Promise<number> {
  const { values } = await counter.get();
  return values
    .filter((v) => Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want))
    .reduce((sum, v) => sum + v.value, 0);
}

export async function effectCount(store: MemoryStore, filter: Partial<Effect> = {}): Promise<number> {
  return store.read(effects).count(filter);
}
