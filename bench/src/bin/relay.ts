// `npm run bench:relay`: the outbox relay's drain rate beside a raw confirmed publish of the same messages to the same broker.
import { randomBytes } from 'node:crypto';
import amqp, { type ConfirmChannel } from 'amqplib';
import {
  AmqpConnectionManager,
  createEnvelope,
  createLogger,
  createMetrics,
  errorMessage,
  firstAmqpUrl,
  MemoryStore,
  MongoStore,
  OutboxRelay,
  outboxRecordOf,
  redactAmqpUrl,
  toAmqpMessage,
  type AmqpMessage,
  type Envelope,
  type OutboxStore,
  type Store,
} from '@ridehail/shared';
import { benchEnv } from '../env';

const EVENTS = benchEnv().BENCH_EVENTS;
const RAW_IN_FLIGHT = 1_000;
const FILL_CHUNK = 500;
const BATCH_SIZE = benchEnv().BENCH_BATCH_SIZE;
const CONCURRENCY = benchEnv().BENCH_RELAY_CONCURRENCY;

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function rideRequested(i: number): Envelope<'ride.requested'> {
  const rideId = `bench-ride-${i}`;
  return createEnvelope({
    type: 'ride.requested',
    source: 'ride-service',
    correlationId: rideId,
    payload: {
      rideId,
      rider: { id: `rider-${i % 100}`, name: 'Bench Rider', email: 'bench@example.com' },
      pickup: { lat: 52.52, lng: 13.405 },
      dropoff: { lat: 52.5, lng: 13.42 },
      paymentMethod: 'pm_card_visa',
      requestedAt: new Date().toISOString(),
    },
  });
}

/** One confirm channel, up to RAW_IN_FLIGHT unconfirmed messages: the best this client and broker do here. */
async function rawPublish(channel: ConfirmChannel, messages: AmqpMessage[]): Promise<number> {
  const started = process.hrtime.bigint();
  let inFlight = 0;
  let failed = 0;
  let wake: (() => void) | null = null;
  const settle = (err: unknown) => {
    if (err) failed += 1;
    inFlight -= 1;
    const w = wake;
    wake = null;
    w?.();
  };
  for (const m of messages) {
    while (inFlight >= RAW_IN_FLIGHT) await new Promise<void>((resolve) => (wake = resolve));
    inFlight += 1;
    if (!channel.publish(m.exchange, m.routingKey, m.content, m.options, settle)) {
      await new Promise<void>((resolve) => channel.once('drain', resolve));
    }
  }
  while (inFlight > 0) await new Promise<void>((resolve) => (wake = resolve));
  if (failed > 0) throw new Error(`${failed} raw publishes were not confirmed`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** Counts rows marked DISPATCHED, so the drain is timed without scanning the outbox. */
function countingOutbox(inner: OutboxStore, total: number): { outbox: OutboxStore; done: Promise<void> } {
  let marked = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const outbox: OutboxStore = {
    claim: (relayId, batchSize, leaseMs) => inner.claim(relayId, batchSize, leaseMs),
    markDispatched: async (relayId, ids) => {
      await inner.markDispatched(relayId, ids);
      marked += ids.length;
      if (marked >= total) finish();
    },
    release: (relayId, ids, retryAfterMs) => inner.release(relayId, ids, retryAfterMs),
    stats: () => inner.stats(),
    onNewMessages: (listener) => inner.onNewMessages(listener),
    attachFastPath: (fastPath) => inner.attachFastPath(fastPath),
  };
  return { outbox, done };
}

async function main(): Promise<void> {
  const { AMQP_URL: amqpUrls, MONGO_URL: mongoUrl, LOG_LEVEL } = benchEnv();
  // One broker is measured: the first node when AMQP_URL lists several.
  const amqpUrl = firstAmqpUrl(amqpUrls);
  const prefix = `bench-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}.`;
  const logger = createLogger('bench-relay', LOG_LEVEL);
  const storeKind = mongoUrl ? 'mongodb' : 'memory';
  let store: Store;
  if (mongoUrl) {
    store = new MongoStore({ url: mongoUrl, dbName: `bench_relay_${randomBytes(4).toString('hex')}`, logger });
    say(`store: mongodb (${store.description})`);
  } else {
    store = new MemoryStore({ name: 'bench-relay' });
    say('store: memory (MONGO_URL is not set: in-memory outbox)');
  }
  say(`broker: ${redactAmqpUrl(amqpUrl)}, BROKER_PREFIX ${prefix}`);
  await store.init([]);

  const exchange = `${prefix}ride.events`;
  const sink = `${prefix}bench-sink`;
  const conn = await amqp.connect(amqpUrl);
  const admin = await conn.createChannel();
  try {
    // A durable queue behind the exchange, so both runs pay for routing and storing persistent messages alike.
    await admin.assertExchange(exchange, 'topic', { durable: true });
    await admin.assertQueue(sink, { durable: true });
    await admin.bindQueue(sink, exchange, '#');

    const envelopes = Array.from({ length: EVENTS }, (_, i) => rideRequested(i));
    let started = Date.now();
    for (let i = 0; i < envelopes.length; i += FILL_CHUNK) {
      const chunk = envelopes.slice(i, i + FILL_CHUNK);
      await store.run(async (tx) => {
        for (const env of chunk) await tx.outbox.add(env);
      });
    }
    say(`filled the outbox with ${EVENTS} events in ${Date.now() - started} ms`);

    // Raw publish before and after the relay run: on a shared machine the mean is fairer than either alone.
    const messages = envelopes.map((env) => toAmqpMessage(outboxRecordOf(env), prefix));
    const measureRaw = async (label: string): Promise<number> => {
      const raw = await conn.createConfirmChannel();
      const seconds = await rawPublish(raw, messages);
      await raw.close();
      await admin.purgeQueue(sink);
      const rate = EVENTS / seconds;
      say(
        `raw confirmed publish (${label}): ${EVENTS} messages in ${(seconds * 1000).toFixed(0)} ms = ${rate.toFixed(0)} msg/s (one confirm channel, ${RAW_IN_FLIGHT} in flight)`,
      );
      return rate;
    };
    const rawBefore = await measureRaw('before');

    const connection = new AmqpConnectionManager({ url: amqpUrl, logger, name: `${prefix}bench-relay` });
    connection.start();
    await connection.waitUntilConnected(10_000);
    const { outbox, done } = countingOutbox(store.outbox, EVENTS);
    const relay = new OutboxRelay({
      connection,
      outbox,
      prefix,
      logger,
      metrics: createMetrics('bench-relay'),
      batchSize: BATCH_SIZE,
      concurrency: CONCURRENCY,
    });
    started = Date.now();
    relay.start();
    await done;
    const relaySeconds = (Date.now() - started) / 1000;
    await relay.stop();
    await connection.close();
    const pending = (await store.outbox.stats()).pending;
    if (pending !== 0) throw new Error(`${pending} outbox rows still pending after the drain`);
    const delivered = (await admin.checkQueue(sink)).messageCount;
    const relayRate = EVENTS / relaySeconds;
    say(
      `relay drain: ${EVENTS} events in ${(relaySeconds * 1000).toFixed(0)} ms = ${relayRate.toFixed(0)} events/s ` +
        `(batch ${BATCH_SIZE}, ${CONCURRENCY} batches in flight; ${delivered} messages reached the queue)`,
    );
    const rawAfter = await measureRaw('after');
    const rawRate = (rawBefore + rawAfter) / 2;
    say(`relay ${storeKind}: ${relayRate.toFixed(0)} events/s, raw ${rawRate.toFixed(0)} msg/s, ratio ${(relayRate / rawRate).toFixed(2)}`);
  } finally {
    await admin.deleteQueue(sink).catch((err: unknown) => logger.warn(`cleanup: ${errorMessage(err)}`));
    await admin.deleteExchange(exchange).catch((err: unknown) => logger.warn(`cleanup: ${errorMessage(err)}`));
    await conn.close().catch(() => undefined);
    if (store instanceof MongoStore) await store.dropDatabase();
    await store.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-relay failed: ${errorMessage(err)}\n`);
  process.exit(1);
});
