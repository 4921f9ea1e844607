// The raw broker baseline: a chain of confirmed publishes through N durable queues (no store, no HTTP), as fast as the broker goes.
import { performance } from 'node:perf_hooks';
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { LatencyRecorder, sleep, type LatencySummary } from './stats';

export interface RawChainOptions {
  amqpUrl: string;
  /** BROKER_PREFIX of this run: every queue and exchange declared here starts with it. */
  prefix: string;
  /** Queues in the chain = confirmed publishes per chain (a saga POST /rides → ride.confirmed is 4). */
  hops?: number;
  /** Chains kept in flight during the throughput phase. */
  inflight?: number;
  throughputSeconds?: number;
  warmupSeconds?: number;
  /** Offered rate of the latency phase (chains/s) and how long it lasts. */
  latencyRate?: number;
  latencySeconds?: number;
  /** Prefetch of every hop's consumer. */
  prefetch?: number;
  /** Body size; about a saga envelope's. */
  bodyBytes?: number;
}

export interface RawChainResult {
  hops: number;
  inflight: number;
  /** Chains completed per second with `inflight` in flight. */
  throughput: number;
  latencyRate: number;
  latency: LatencySummary;
}

interface Hop {
  connection: ChannelModel;
  consume: Channel;
  forward: ConfirmChannel | null;
}

/**
 * publisher → q1; the consumer of q1 publishes the message on a confirm channel to q2 and acks it once confirmed; …;
 * the consumer of the last queue ends the chain. Messages are persistent, queues durable, routed through a topic
 * exchange: the same broker work per hop as a service's relay publish and consume.
 */
export async function runRawChain(options: RawChainOptions): Promise<RawChainResult> {
  const hops = options.hops ?? 4;
  const inflight = options.inflight ?? 1000;
  const prefetch = options.prefetch ?? 500;
  const exchange = `${options.prefix}bench.raw`;
  const queue = (i: number) => `${options.prefix}bench.raw.q${i}`;
  const body = Buffer.alloc(options.bodyBytes ?? 600, 'x');

  const started = new Map<string, number>();
  let onDone: (id: string, latencyMs: number) => void = () => undefined;

  // TCP_NODELAY: the broker's best case (amqplib leaves Nagle on unless told), so the baseline is not held by 40 ms delayed ACKs.
  const source = await amqp.connect(options.amqpUrl, {
    noDelay: true,
    clientProperties: { connection_name: `${options.prefix}bench.raw.source` },
  });
  const hopsOpen: Hop[] = [];
  try {
    const setup = await source.createChannel();
    await setup.assertExchange(exchange, 'topic', { durable: true });
    for (let i = 1; i <= hops; i++) {
      await setup.assertQueue(queue(i), { durable: true });
      await setup.purgeQueue(queue(i));
      await setup.bindQueue(queue(i), exchange, `hop.${i}`);
    }
    await setup.close();

    for (let i = 1; i <= hops; i++) {
      const connection = await amqp.connect(options.amqpUrl, {
        noDelay: true,
        clientProperties: { connection_name: `${options.prefix}bench.raw.hop${i}` },
      });
      const consume = await connection.createChannel();
      await consume.prefetch(prefetch);
      const last = i === hops;
      const forward = last ? null : await connection.createConfirmChannel();
      hopsOpen.push({ connection, consume, forward });
      await consume.consume(queue(i), (msg: ConsumeMessage | null) => {
        if (!msg) return;
        const id = String(msg.properties.messageId);
        if (forward === null) {
          consume.ack(msg);
          const t0 = started.get(id);
          if (t0 === undefined) return;
          started.delete(id);
          onDone(id, performance.now() - t0);
          return;
        }
        // Forward first, ack after the confirm: the at-least-once order a service keeps (commit, then ack).
        forward.publish(
          exchange,
          `hop.${i + 1}`,
          msg.content,
          { persistent: true, messageId: id, contentType: 'application/octet-stream' },
          (err) => {
            if (err) consume.nack(msg, false, true);
            else consume.ack(msg);
          },
        );
      });
    }

    const publisher = await source.createConfirmChannel();
    let seq = 0;
    const send = (): void => {
      const id = `c${++seq}`;
      started.set(id, performance.now());
      publisher.publish(exchange, 'hop.1', body, { persistent: true, messageId: id, contentType: 'application/octet-stream' }, (err) => {
        if (err) started.delete(id);
      });
    };

    // Throughput: a fixed number of chains in flight, each completion starting the next one.
    const warmupMs = (options.warmupSeconds ?? 1) * 1000;
    const measureMs = (options.throughputSeconds ?? 5) * 1000;
    let counting = false;
    let counted = 0;
    let refill = true;
    onDone = () => {
      if (counting) counted++;
      if (refill) send();
    };
    for (let k = 0; k < inflight; k++) send();
    await sleep(warmupMs);
    counting = true;
    const t0 = performance.now();
    await sleep(measureMs);
    counting = false;
    const throughput = counted / ((performance.now() - t0) / 1000);
    refill = false;
    await waitFor(() => started.size === 0, 30_000, 'raw chains of the throughput phase to finish');

    // Latency: an open-loop fixed rate, well under capacity.
    const latencyRate = options.latencyRate ?? 200;
    const latencies = new LatencyRecorder();
    onDone = (_id, latencyMs) => latencies.record(latencyMs);
    await offerAtRate(latencyRate, (options.latencySeconds ?? 5) * 1000, send);
    await waitFor(() => started.size === 0, 30_000, 'raw chains of the latency phase to finish');
    await publisher.close();
    return { hops, inflight, throughput, latencyRate, latency: latencies.summary() };
  } finally {
    for (const h of hopsOpen) await h.connection.close().catch(() => undefined);
    // The queues go with the run's prefix in the caller's cleanup; delete them here too so a failed run leaves nothing.
    const cleanup = await source.createChannel().catch(() => null);
    if (cleanup) {
      for (let i = 1; i <= hops; i++) await cleanup.deleteQueue(queue(i)).catch(() => undefined);
      await cleanup.deleteExchange(exchange).catch(() => undefined);
      await cleanup.close().catch(() => undefined);
    }
    await source.close().catch(() => undefined);
  }
}

/** Calls `fire` `rate` times a second for `durationMs`, on schedule (catching up after a late timer, never bunching ahead). */
export async function offerAtRate(rateHz: number, durationMs: number, fire: () => void): Promise<number> {
  const total = Math.round((rateHz * durationMs) / 1000);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - start) * rateHz) / 1000) + 1);
    while (sent < due) {
      fire();
      sent++;
    }
    const nextAt = start + (sent * 1000) / rateHz;
    await sleep(Math.max(0, nextAt - performance.now()));
  }
  return sent;
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
