// payment-service's settings, and what its handlers are given from them: the tariff and the gateway.
import { createLogger, serviceConfig } from '@ridehail/shared';
import { z } from 'zod';
import type { Tariff } from './domain/fare';
import type { PaymentGateway } from './gateway/gateway';
import { SimulatedGateway } from './gateway/simulator';
import type { PaymentHandlerDeps } from './handlers/deps';

export const paymentConfig = serviceConfig(3003, {
  /** Charged for every ride, in minor units of CURRENCY. */
  FARE_BASE_MINOR: z.coerce.number().int().min(0).default(250),
  /** Charged per kilometre pickup → dropoff (haversine), in minor units of CURRENCY. */
  FARE_PER_KM_MINOR: z.coerce.number().int().min(0).default(120),
});
export type PaymentConfig = z.infer<typeof paymentConfig>;

export function tariffOf(config: PaymentConfig): Tariff {
  return { baseMinor: config.FARE_BASE_MINOR, perKmMinor: config.FARE_PER_KM_MINOR, currency: config.CURRENCY };
}

export interface PaymentOverrides {
  /** Defaults to the simulator of DESIGN §3. */
  gateway: PaymentGateway;
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

export function paymentDeps(config: PaymentConfig, overrides: Partial<PaymentOverrides>): PaymentHandlerDeps {
  return { gateway: overrides.gateway ?? simulatedGateway(config), tariff: tariffOf(config) };
}
