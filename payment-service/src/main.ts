// payment-service's composition root: config, the gateway simulator, and its "reacts to → emits" table.
import { z } from 'zod';
import {
  baseConfigSchema,
  createLogger,
  exchanges,
  loadConfig,
  on,
  runMain,
  startService,
  type Env,
  type RunningService,
  type ServiceDefinition,
  type Store,
} from '@ridehail/shared';
import type { Tariff } from './domain/fare';
import type { PaymentGateway } from './gateway/gateway';
import { SimulatedGateway } from './gateway/simulator';
import { authorizePaymentOnDriverAssigned } from './handlers/authorizePaymentOnDriverAssigned';
import { capturePaymentOnRideCompleted } from './handlers/capturePaymentOnRideCompleted';
import { quoteFareOnRideRequested } from './handlers/quoteFareOnRideRequested';
import { voidPaymentOnRideCancelled } from './handlers/voidPaymentOnRideCancelled';
import { paymentApi } from './http/openapi';
import { mountPaymentRoutes } from './http/routes';
import { collections } from './store/collections';
import type { PaymentHandlerDeps } from './handlers/deps';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3003),
  /** Charged for every ride, in minor units of CURRENCY. */
  FARE_BASE_MINOR: z.coerce.number().int().min(0).default(250),
  /** Charged per kilometre pickup → dropoff (haversine), in minor units of CURRENCY. */
  FARE_PER_KM_MINOR: z.coerce.number().int().min(0).default(120),
});
export type PaymentConfig = z.infer<typeof configSchema>;

export function tariffOf(config: PaymentConfig): Tariff {
  return { baseMinor: config.FARE_BASE_MINOR, perKmMinor: config.FARE_PER_KM_MINOR, currency: config.CURRENCY };
}

/** Reacts to → emits: the service's whole table, one line per consumed event. */
export function subscriptions(deps: PaymentHandlerDeps): ServiceDefinition['subscriptions'] {
  return [
    // ride.requested  → fare.calculated (once per ride)
    on('ride.requested', 'quoteFareOnRideRequested', quoteFareOnRideRequested(deps)),
    // driver.assigned → payment.authorized | payment.declined (exactly the quote; nothing if cancelled first)
    on('driver.assigned', 'authorizePaymentOnDriverAssigned', authorizePaymentOnDriverAssigned(deps)),
    // ride.cancelled  → payment.voided (if authorized), else the cancellation is remembered
    on('ride.cancelled', 'voidPaymentOnRideCancelled', voidPaymentOnRideCancelled(deps)),
    // ride.completed  → payment.captured (once)
    on('ride.completed', 'capturePaymentOnRideCompleted', capturePaymentOnRideCompleted(deps)),
  ];
}

export interface PaymentOverrides {
  /** Defaults to the simulator of DESIGN §3. */
  gateway?: PaymentGateway;
}

/** The structured line logged for each authorization the simulated gateway really makes (the soak counts them). */
export const AUTHORIZATION_MADE_LOG = 'gateway authorization made';

/**
 * The simulator of DESIGN §3, logging one line per authorization it really makes, with the payment id (its idempotency
 * key): each replica has its own simulator where a real gateway is shared, so only the replicas' logs together tell
 * whether a payment was authorized twice.
 */
export function simulatedGateway(config: PaymentConfig): SimulatedGateway {
  const logger = createLogger('payment-service', config.LOG_LEVEL);
  return new SimulatedGateway({ onAuthorized: (made) => logger.info(AUTHORIZATION_MADE_LOG, made) });
}

export function definition(config: PaymentConfig, overrides: PaymentOverrides = {}): ServiceDefinition {
  const deps: PaymentHandlerDeps = {
    gateway: overrides.gateway ?? simulatedGateway(config),
    tariff: tariffOf(config),
  };
  return {
    name: 'payment-service',
    exchange: exchanges.payment,
    database: 'payments',
    collections,
    subscriptions: subscriptions(deps),
    routes: (router, routeDeps) => mountPaymentRoutes(router, routeDeps),
    api: paymentApi,
  };
}

export async function start(env?: Env, options?: { store?: Store; gateway?: PaymentGateway }): Promise<RunningService> {
  const config = loadConfig(configSchema, env);
  return startService(definition(config, { gateway: options?.gateway }), {
    config,
    store: options?.store,
    handleSignals: options === undefined,
  });
}

if (require.main === module) runMain('payment-service', () => start());
