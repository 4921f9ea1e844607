// The service kit: from what sets one service apart, the configuration schema, definition and start() its main.ts exports.
import type { Router } from 'express';
import type { z } from 'zod';
import { baseConfigSchema, loadConfig, type BaseConfig, type Env } from './config';
import type { ExchangeName } from './events';
import type { ServiceApi } from './http/openapi';
import type { RouteDeps, RunningService, ServiceDefinition, ServiceName } from './http/types';
import type { AnySubscription } from './messaging/handler';
import { startService } from './runtime';
import type { CollectionSpec, Store } from './store/port';
import type { AnySummaryLedger } from './store/summaryLedger';

/** The base variables, PORT defaulting to the service's own port, and the service's own settings (`{}` for none). */
export function serviceConfig<Shape extends z.ZodRawShape>(port: number, settings: Shape) {
  return baseConfigSchema.extend({ PORT: baseConfigSchema.shape.PORT.default(port), ...settings });
}

/** What differs from one service to the next; `Overrides` are what a test or a script may hand in instead (a gateway, a mailer). */
export interface ServiceSpec<S extends z.ZodType<BaseConfig, unknown>, Deps, Overrides extends object> {
  name: ServiceName;
  /** The exchange it publishes to. */
  exchange: ExchangeName;
  /** The database name without MONGO_DB_PREFIX. */
  database: string;
  collections: CollectionSpec[];
  /** Its environment: `serviceConfig(port, settings)`. */
  config: S;
  /** What its handlers are given, built from the configuration (and the overrides). */
  deps(config: z.infer<S>, overrides: Partial<Overrides>): Deps;
  /** The "reacts to → emits" table: one `on(...)` a consumed event. */
  subscriptions(deps: Deps): AnySubscription[];
  routes(router: Router, deps: RouteDeps, config: z.infer<S>): void;
  api?: ServiceApi;
  ledgers?(config: z.infer<S>): AnySummaryLedger[];
  /** Ready only when this answers true too (besides store and broker). */
  extraReadiness?(deps: Deps): Promise<boolean>;
  /** Run at stop, after the consumer and the relay stopped. */
  onStop?(deps: Deps): Promise<void>;
}

/** What `start` takes besides the environment: a store to share (tests), and the service's overrides. */
export type StartOptions<Overrides extends object> = { store?: Store } & Partial<Overrides>;

export interface ServiceKit<S extends z.ZodType<BaseConfig, unknown>, Deps, Overrides extends object> {
  name: ServiceName;
  configSchema: S;
  subscriptions(deps: Deps): AnySubscription[];
  definition(config: z.infer<S>, overrides?: Partial<Overrides>): ServiceDefinition;
  /** Starts the service from `env` (process.env by default); without options it is the process itself and handles signals. */
  start(env?: Env, options?: StartOptions<Overrides>): Promise<RunningService>;
}

export function defineService<S extends z.ZodType<BaseConfig, unknown>, Deps, Overrides extends object = Record<never, never>>(
  spec: ServiceSpec<S, Deps, Overrides>,
): ServiceKit<S, Deps, Overrides> {
  const definition = (config: z.infer<S>, overrides: Partial<Overrides> = {}): ServiceDefinition => {
    const deps = spec.deps(config, overrides);
    const { extraReadiness, onStop } = spec;
    return {
      name: spec.name,
      exchange: spec.exchange,
      database: spec.database,
      collections: spec.collections,
      ledgers: spec.ledgers?.(config) ?? [],
      subscriptions: spec.subscriptions(deps),
      routes: (router, routeDeps) => spec.routes(router, routeDeps, config),
      api: spec.api,
      ...(extraReadiness ? { extraReadiness: () => extraReadiness(deps) } : {}),
      ...(onStop ? { onStop: () => onStop(deps) } : {}),
    };
  };
  return {
    name: spec.name,
    configSchema: spec.config,
    subscriptions: (deps) => spec.subscriptions(deps),
    definition,
    async start(env, options) {
      const config = loadConfig(spec.config, env);
      // The options double as the overrides: `deps` reads only the keys it knows.
      return startService(definition(config, options), { config, store: options?.store, handleSignals: options === undefined });
    },
  };
}
