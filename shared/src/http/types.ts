// Types a service's HTTP layer is written against (the app factory and the runtime provide them).
import type { Router } from 'express';
import type { BaseConfig } from '../config';
import type { ExchangeName } from '../events';
import type { Logger } from '../logger';
import type { AnySubscription } from '../messaging/handler';
import type { CollectionSpec, Store } from '../store/port';
import type { AnySummaryLedger } from '../store/summaryLedger';
import type { ServiceApi } from './openapi';

export type ServiceName = 'ride-service' | 'driver-service' | 'payment-service' | 'notification-service';

export interface RouteDeps {
  store: Store;
  logger: Logger;
  service: ServiceName;
}

/** Everything the runtime needs to run one service; `defineService` builds it from what sets the service apart. */
export interface ServiceDefinition {
  name: ServiceName;
  /** The exchange it publishes to (declared at startup even if nothing is published yet). */
  exchange: ExchangeName;
  /** The database name without MONGO_DB_PREFIX: `rides`, `drivers`, `payments`, `notifications`. */
  database: string;
  collections: CollectionSpec[];
  /** Every event the service reacts to, with its handler: the service's "reacts to → emits" table. */
  subscriptions: AnySubscription[];
  /** Mounts the service's routes (healthz/readyz/metrics are added by the runtime). */
  routes(router: Router, deps: RouteDeps): void;
  /** Those routes described from their zod schemas (GET /openapi.json and GET /docs). */
  api?: ServiceApi;
  /** Summaries kept from ledger rows (DESIGN §9): their collections are created and a folder runs in every process. */
  ledgers?: AnySummaryLedger[];
  /** Optional extra readiness check (e.g. SMTP), besides store and broker. */
  extraReadiness?: () => Promise<boolean>;
  /** Optional hook run at stop, after consumers and relay stopped (e.g. close an SMTP transport). */
  onStop?: () => Promise<void>;
}

export interface RuntimeOptions {
  config: BaseConfig;
  /** Use this store instead of creating one from MONGO_URL (tests share an in-memory store this way). */
  store?: Store;
  /** Install SIGTERM/SIGINT handlers (true for real processes, false in tests). */
  handleSignals?: boolean;
}

export interface RunningService {
  name: ServiceName;
  port: number;
  url: string;
  store: Store;
  stop(): Promise<void>;
}
