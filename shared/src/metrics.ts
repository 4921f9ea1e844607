// Prometheus metrics of DESIGN §3 (prom-client), one registry per service instance so in-process tests don't collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { OutboxStats } from './store/port';

export interface Metrics {
  registry: Registry;
  published: Counter<'type'>;
  consumed: Counter<'type' | 'outcome'>;
  retried: Counter<'type'>;
  deadLettered: Counter<'type' | 'reason'>;
  outboxPending: Gauge;
  outboxOldestPendingAge: Gauge;
  handlerDuration: Histogram<'type' | 'handler'>;
  /** Reads the outbox gauges from the store when scraped (and only then: an idle service costs the store nothing). */
  readOutboxFrom(stats: () => Promise<OutboxStats>): void;
}

export function createMetrics(service: string, options: { defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });
  let source: (() => Promise<OutboxStats>) | null = null;
  // One store read per scrape serves both gauges.
  let reading: Promise<OutboxStats> | null = null;
  const read = (): Promise<OutboxStats> | null => {
    if (source === null) return null;
    reading ??= source().finally(() => {
      reading = null;
    });
    return reading;
  };
  return {
    readOutboxFrom: (stats) => {
      source = stats;
    },
    registry,
    published: new Counter({
      name: 'messages_published_total',
      help: 'Messages published and confirmed by the broker',
      labelNames: ['type'],
      registers: [registry],
    }),
    consumed: new Counter({
      name: 'messages_consumed_total',
      help: 'Messages consumed and acknowledged',
      labelNames: ['type', 'outcome'],
      registers: [registry],
    }),
    retried: new Counter({
      name: 'messages_retried_total',
      help: 'Messages sent to a retry queue',
      labelNames: ['type'],
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'messages_dead_lettered_total',
      help: 'Messages parked in the dlq',
      labelNames: ['type', 'reason'],
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'outbox_pending',
      help: 'Outbox messages not yet dispatched',
      registers: [registry],
      async collect() {
        const stats = await read();
        if (stats) this.set(stats.pending);
      },
    }),
    outboxOldestPendingAge: new Gauge({
      name: 'outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest pending outbox message',
      registers: [registry],
      async collect() {
        const stats = await read();
        if (stats) this.set(stats.oldestPendingAt ? Math.max(0, (Date.now() - stats.oldestPendingAt.getTime()) / 1000) : 0);
      },
    }),
    handlerDuration: new Histogram({
      name: 'handler_duration_seconds',
      help: 'Message handler latency',
      labelNames: ['type', 'handler'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
