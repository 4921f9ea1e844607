// Shared setup of the messaging lane: one broker per run, a fresh BROKER_PREFIX per suite, factories and queue readers.
import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { connectToAnyNode, redactAmqpUrl } from '../../src/messaging/connection';
import { createEnvelope, type Envelope } from '../../src/envelope';
import { createLogger, type Logger } from '../../src/logger';
import { outboxRecordOf } from '../../src/wire';
import type { OutboxRecord } from '../../src/store/port';
import { waitFor } from '../../src/waitFor';
import { announceLane } from '../../../test/support/lanes';
import { deleteDeclared, resolveRabbit, uniquePrefix, unreachableReason, type RabbitTarget } from '../../../test/support/rabbit';

export const LANE = 'messaging/rabbitmq';

export interface BrokerContext {
  broker: RabbitTarget;
  /** This suite's BROKER_PREFIX; everything declared under it is deleted after the suite. */
  prefix: string;
  /** A plain connection for the test's own inspection (get, publish, check). */
  conn: ChannelModel;
  channel: Channel;
}

/**
 * Mocha hooks for a suite that needs the broker. When none answers, the lane says so loudly and the suite's tests
 * show as pending: never as passed.
 */
export function useBroker(label: string): BrokerContext {
  const ctx = {} as BrokerContext;
  before(async function () {
    this.timeout(120_000);
    const broker = await resolveRabbit();
    const why = await unreachableReason(broker.url);
    if (why) {
      announceLane(LANE, 'did not run', why);
      await broker.stop();
      this.skip();
    }
    announceLane(LANE, 'ran', `${redactAmqpUrl(broker.url)} (${broker.source})`);
    ctx.broker = broker;
    ctx.prefix = uniquePrefix(label);
    ctx.conn = await connectToAnyNode(broker.url);
    ctx.channel = await ctx.conn.createChannel();
    // A test that provokes a channel error (404 on purpose) must not crash the process.
    ctx.conn.on('error', () => undefined);
  });
  after(async function () {
    this.timeout(60_000);
    if (!ctx.broker) return;
    await ctx.conn.close().catch(() => undefined);
    await deleteDeclared(ctx.broker, ctx.prefix);
    await ctx.broker.stop();
  });
  return ctx;
}

/** A logger that stays quiet unless LOG_LEVEL asks for lines (the messaging code logs retries and parking loudly). */
export function testLogger(service = 'messaging-test'): Logger {
  const level = process.env.LOG_LEVEL;
  const logger = createLogger(service, level ?? 'error');
  if (!level) logger.silent = true;
  return logger;
}

/** A valid `ride.requested` envelope; each call is a new ride unless told otherwise. */
export function rideRequested(
  overrides: { rideId?: string; causationId?: string; id?: string; source?: string } = {},
): Envelope<'ride.requested'> {
  const rideId = overrides.rideId ?? `ride-${randomUUID()}`;
  const input = {
    type: 'ride.requested' as const,
    source: overrides.source ?? 'ride-service',
    correlationId: rideId,
    payload: {
      rideId,
      rider: { id: 'rider-1', name: 'Ada Rider', email: 'ada@example.com' },
      pickup: { lat: 52.52, lng: 13.405 },
      dropoff: { lat: 52.5, lng: 13.42 },
      paymentMethod: 'pm_card_visa',
      requestedAt: new Date().toISOString(),
    },
    ...(overrides.causationId !== undefined ? { causationId: overrides.causationId } : {}),
    ...(overrides.id !== undefined ? { id: overrides.id } : {}),
  };
  return createEnvelope(input);
}

export function recordOf(env: Envelope): OutboxRecord {
  return outboxRecordOf(env);
}

/** Takes every message currently in `queue` (acking them) until `count` arrived or the timeout passes. */
export async function takeMessages(channel: Channel, queue: string, count: number, timeoutMs = 10_000): Promise<GetMessage[]> {
  const got: GetMessage[] = [];
  await waitFor(
    async () => {
      for (;;) {
        const msg = await channel.get(queue, { noAck: true });
        if (msg === false) break;
        got.push(msg);
      }
      return got.length >= count;
    },
    { timeoutMs, intervalMs: 50, description: `${count} message(s) in ${queue}` },
  );
  return got;
}

export async function messageCount(channel: Channel, queue: string): Promise<number> {
  return (await channel.checkQueue(queue)).messageCount;
}
