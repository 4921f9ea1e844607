// Runs one service: store, broker connection, topology, consumer, outbox relay, HTTP, and graceful shutdown.
import type { Server } from 'node:http';
import { once } from 'node:events';
import { createHttpApp } from './http/app';
import type { RunningService, RuntimeOptions, ServiceDefinition } from './http/types';
import { createLogger, errorMessage, withContext } from './logger';
import { AmqpConnectionManager } from './messaging/connection';
import { MessageConsumer } from './messaging/consumer';
import { OutboxRelay } from './messaging/relay';
import { createMetrics } from './metrics';
import { createStore } from './store/factory';
import { LedgerFolder } from './store/summaryLedger';
import { startTracing, stopTracing } from './tracing';

/** Of SHUTDOWN_TIMEOUT_MS, what is kept for the relay, the folds and closing the connections after the drain. */
const SHUTDOWN_RESERVE_MS = 2_000;

export async function startService(def: ServiceDefinition, options: RuntimeOptions): Promise<RunningService> {
  const { config } = options;
  const logger = createLogger(def.name, config.LOG_LEVEL);
  // Trace context always flows (so every message carries a traceparent); spans are exported only to an OTLP endpoint.
  const otlpEndpoint = config.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? config.OTEL_EXPORTER_OTLP_ENDPOINT;
  const tracingOwner = startTracing({ serviceName: def.name, otlpEndpoint });
  if (otlpEndpoint && tracingOwner) logger.info(`exporting traces to ${otlpEndpoint}`);
  const metrics = createMetrics(def.name, { defaultMetrics: options.handleSignals === true });

  const store = options.store ?? createStore({ mongoUrl: config.MONGO_URL, dbName: `${config.MONGO_DB_PREFIX}${def.database}`, logger });
  // Collections and indexes exist before any transaction runs (real MongoDB may refuse to create them inside one).
  const ledgers = def.ledgers ?? [];
  await store.init([...def.collections, ...ledgers.map((l) => l.entries)]);
  const folders = ledgers.map((ledger) => new LedgerFolder({ store, ledger, logger }));
  logger.info(`store ready: ${store.description}`);
  metrics.readOutboxFrom(() => store.outbox.stats());

  const connection = new AmqpConnectionManager({ url: config.AMQP_URL, logger, name: `${config.BROKER_PREFIX}${def.name}` });
  const consumer = new MessageConsumer({
    connection,
    store,
    service: def.name,
    prefix: config.BROKER_PREFIX,
    exchange: def.exchange,
    subscriptions: def.subscriptions,
    maxAttempts: config.MAX_ATTEMPTS,
    retryDelaysMs: config.RETRY_DELAYS_MS,
    prefetch: config.PREFETCH,
    queueType: config.QUEUE_TYPE,
    logger,
    metrics,
  });
  const relay = new OutboxRelay({
    connection,
    outbox: store.outbox,
    prefix: config.BROKER_PREFIX,
    service: def.name,
    leaseMs: config.OUTBOX_LEASE_MS,
    logger,
    metrics,
  });

  // Ready only once this connection's setup steps (topology, consumer) ran; a lost connection makes us unready again.
  let topologyReady = false;
  await consumer.start();
  connection.onConnect(async () => {
    topologyReady = true;
  });
  connection.on('disconnected', () => {
    topologyReady = false;
  });
  relay.start();
  connection.start();
  for (const f of folders) f.start();

  const readiness = async (): Promise<boolean> => {
    if (!topologyReady || !connection.isConnected()) return false;
    if (!(await store.isHealthy())) return false;
    return def.extraReadiness ? def.extraReadiness() : true;
  };

  const app = createHttpApp({
    service: def.name,
    logger,
    metrics,
    readiness,
    notReadyReason: () => connection.blockedBy,
    mount: (router) => def.routes(router, { store, logger, service: def.name }),
    api: def.api,
  });
  const server: Server = app.listen(config.PORT, '0.0.0.0');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.PORT;
  logger.info(`listening on port ${port}`, { port, brokerPrefix: config.BROKER_PREFIX });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      logger.info('stopping: no new requests or messages; finishing in-flight work');
      const started = Date.now();
      // Most of the budget goes to messages in flight; what is left closes the rest before the exit timer fires.
      const drainMs = Math.max(0, config.SHUTDOWN_TIMEOUT_MS - SHUTDOWN_RESERVE_MS);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await consumer.stop(drainMs);
      for (const f of folders) await f.stop();
      await relay.stop();
      const left = Math.max(0, drainMs - (Date.now() - started));
      const timer = setTimeout(() => server.closeAllConnections(), left);
      await closed;
      clearTimeout(timer);
      await connection.close();
      if (def.onStop) await def.onStop();
      await store.close();
      // Only the service that registered tracing ends it (tests run several services in one process).
      if (tracingOwner && options.handleSignals) await stopTracing();
      logger.info('stopped');
    })();
    return stopping;
  };

  if (options.handleSignals) {
    const onSignal = (signal: NodeJS.Signals) => {
      const log = withContext(logger, { signal });
      log.info(`received ${signal}`);
      const timer = setTimeout(() => {
        log.error(`shutdown took longer than ${config.SHUTDOWN_TIMEOUT_MS} ms; exiting`);
        process.exit(1);
      }, config.SHUTDOWN_TIMEOUT_MS);
      timer.unref();
      stop()
        .then(() => process.exit(0))
        .catch((err: unknown) => {
          log.error(`shutdown failed: ${errorMessage(err)}`);
          process.exit(1);
        });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  }

  return { name: def.name, port, url: `http://127.0.0.1:${port}`, store, stop };
}

/** The `require.main === module` tail of every main.ts: start the service as this process, or log why not and exit 1. */
export function runMain(service: { name: string; start(): Promise<unknown> }): void {
  service.start().catch((err: unknown) => {
    createLogger(service.name).error(`failed to start: ${errorMessage(err)}`);
    process.exit(1);
  });
}
