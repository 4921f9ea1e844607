// One trace per saga: the four services (in this process, so the SDK's in-memory exporter sees every span) on the real broker.
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import { expect } from 'chai';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MemoryStore, startTracing, stopTracing, waitFor, type Env, type RunningService } from '@ridehail/shared';
import { start as startDriver } from '../../driver-service/src/main';
import { start as startNotification } from '../../notification-service/src/main';
import { start as startPayment } from '../../payment-service/src/main';
import { start as startRide } from '../../ride-service/src/main';
import { announceLane } from '../support/lanes';
import { resolveMongo, type MongoTarget } from '../support/mongo';
import { resolveRabbit, uniquePrefix, unreachableReason, type RabbitTarget } from '../support/rabbit';
import { startSmtpSink, type SmtpSink } from '../support/smtpSink';
import { releaseLaneResources } from '../support/stack';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/;

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('one trace per saga across the four services', function () {
  this.timeout(60_000);
  const exporter = new InMemorySpanExporter();
  const brokerPrefix = uniquePrefix('trace');
  const mongoDbPrefix = `trace_${randomBytes(3).toString('hex')}_`;
  let rabbit: RabbitTarget | undefined;
  let mongo: MongoTarget | null = null;
  let smtp: SmtpSink | undefined;
  const running: RunningService[] = [];

  before(async function () {
    this.timeout(60_000);
    rabbit = await resolveRabbit();
    const unreachable = await unreachableReason(rabbit.url);
    if (unreachable) {
      announceLane('e2e/trace', 'did not run', `no broker: ${unreachable}`);
      throw new Error(`the trace test needs RabbitMQ: ${unreachable}`);
    }
    mongo = await resolveMongo();
    // This process's tracer provider, with the in-memory exporter (whatever an earlier test registered is ended first).
    await stopTracing();
    startTracing({ serviceName: 'trace-test', spanProcessors: [new SimpleSpanProcessor(exporter)] });
    smtp = await startSmtpSink();
    const env: Env = {
      PORT: '0',
      AMQP_URL: rabbit.url,
      BROKER_PREFIX: brokerPrefix,
      MONGO_DB_PREFIX: mongoDbPrefix,
      LOG_LEVEL: 'warn',
      SMTP_URL: smtp.url,
      ...(mongo ? { MONGO_URL: mongo.url } : {}),
    };
    const storeFor = () => (mongo ? {} : { store: new MemoryStore() });
    announceLane('e2e/trace', 'ran', `four services in this process, ${mongo ? 'MongoDB' : 'in-memory stores (no MongoDB)'}`);
    running.push(await startNotification(env, storeFor()));
    running.push(await startPayment(env, storeFor()));
    running.push(await startDriver(env, storeFor()));
    running.push(await startRide(env, storeFor()));
    for (const svc of running)
      await waitFor(async () => (await fetch(`${svc.url}/readyz`)).status === 200, { timeoutMs: 20_000, description: `${svc.name} ready` });
  });

  after(async function () {
    this.timeout(60_000);
    for (const svc of running.reverse()) await svc.stop();
    await stopTracing();
    await smtp?.stop();
    await releaseLaneResources({ rabbit, brokerPrefix, mongo, mongoDbPrefix });
  });

  it('continues the caller’s traceparent from POST /rides through every publish and handler to the last email', async () => {
    const [notification, payment, driver, ride] = running as [RunningService, RunningService, RunningService, RunningService];
    void payment;
    void notification;
    const rider = await post(`${ride.url}/riders`, {
      name: 'Grace Hopper',
      email: `grace.${randomBytes(3).toString('hex')}@riders.example`,
    });
    await post(`${driver.url}/drivers`, { name: 'Ada Driver', email: 'ada@drivers.example', location: { lat: 48.2082, lng: 16.3738 } });
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const requested = await post(
      `${ride.url}/rides`,
      { riderId: rider.body.id, pickup: { lat: 48.2083, lng: 16.3739 }, dropoff: { lat: 48.21, lng: 16.38 } },
      { traceparent: `00-${traceId}-${callerSpan}-01` },
    );
    expect(requested.status).to.equal(202);
    const rideId = requested.body.rideId as string;

    const ofTrace = (): ReadableSpan[] => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    // Done when notification-service published both notification.sent events.
    await waitFor(() => ofTrace().filter((s) => s.name === 'publish notification.sent').length === 2, {
      timeoutMs: 20_000,
      description: 'both notification.sent publishes in the trace',
    });
    const spans = ofTrace();
    const names = new Set(spans.map((s) => `${s.instrumentationScope.name}: ${s.name}`));
    for (const expected of [
      'ride-service: POST /rides',
      'ride-service: publish ride.requested',
      'driver-service: process ride.requested',
      'driver-service: publish driver.assigned',
      'payment-service: process ride.requested',
      'payment-service: process driver.assigned',
      'payment-service: publish payment.authorized',
      'ride-service: process payment.authorized',
      'ride-service: publish ride.confirmed',
      'notification-service: process ride.confirmed',
      'notification-service: publish notification.sent',
    ]) {
      expect(names, `span "${expected}" in trace ${traceId} of ride ${rideId}`).to.include(expected);
    }
    // One tree: every span's parent is the caller's span or another span of the trace.
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    for (const s of spans) {
      const parent = s.parentSpanContext?.spanId;
      expect(parent === callerSpan || (parent !== undefined && ids.has(parent)), `${s.name} hangs off the trace`).to.equal(true);
    }
    // A handler continues the publish that sent it its message.
    const publishRequested = spans.find((s) => s.name === 'publish ride.requested');
    const processRequested = spans.find((s) => s.instrumentationScope.name === 'driver-service' && s.name === 'process ride.requested');
    expect(processRequested?.parentSpanContext?.spanId).to.equal(publishRequested?.spanContext().spanId);
  });

  it('starts a trace at POST /rides when the caller sends none, and every message of the saga carries it in traceparent', async () => {
    const ride = running[3] as RunningService;
    // Every message the four exchanges carry, as the broker delivers it.
    const conn = await amqp.connect((rabbit as RabbitTarget).url);
    const channel = await conn.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    for (const x of ['ride', 'driver', 'payment', 'notification']) await channel.bindQueue(queue, `${brokerPrefix}${x}.events`, '#');
    const seen: Array<{ type: string; rideId: string; traceparent: unknown }> = [];
    await channel.consume(
      queue,
      (msg) => {
        if (msg)
          seen.push({
            type: String(msg.properties.type),
            rideId: String(msg.properties.correlationId),
            traceparent: msg.properties.headers?.['traceparent'],
          });
      },
      { noAck: true },
    );
    const driver = running[2] as RunningService;
    const rider = await post(`${ride.url}/riders`, { name: 'Alan Turing', email: `alan.${randomBytes(3).toString('hex')}@riders.example` });
    await post(`${driver.url}/drivers`, { name: 'Bo Driver', email: 'bo@drivers.example', location: { lat: 59.3293, lng: 18.0686 } });
    const requested = await post(`${ride.url}/rides`, {
      riderId: rider.body.id,
      pickup: { lat: 59.3294, lng: 18.0687 },
      dropoff: { lat: 59.33, lng: 18.07 },
    });
    expect(requested.status).to.equal(202);
    const root = await waitFor(
      () => exporter.getFinishedSpans().find((s) => s.name === 'POST /rides' && s.parentSpanContext === undefined) ?? null,
      { description: 'a root POST /rides span' },
    );
    const traceId = root.spanContext().traceId;
    await waitFor(
      () => exporter.getFinishedSpans().some((s) => s.spanContext().traceId === traceId && s.name === 'process ride.confirmed'),
      {
        timeoutMs: 20_000,
        description: 'the confirmation handled in the same trace',
      },
    );
    const rideId = requested.body.rideId as string;
    await waitFor(() => seen.filter((m) => m.rideId === rideId && m.type === 'notification.sent').length === 2, {
      timeoutMs: 20_000,
      description: 'the saga’s messages on the tap',
    });
    await conn.close();
    const ofRide = seen.filter((m) => m.rideId === rideId);
    expect(ofRide.map((m) => m.type)).to.include.members(['ride.requested', 'driver.assigned', 'payment.authorized', 'ride.confirmed']);
    for (const m of ofRide) {
      const match = TRACEPARENT.exec(String(m.traceparent));
      expect(match?.[1], `${m.type} carries the saga's trace id in traceparent`).to.equal(traceId);
    }
  });
});
