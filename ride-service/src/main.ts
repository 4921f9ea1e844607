// ride-service's composition root: configuration, what it reacts to and emits, its routes, and start().
import {
  baseConfigSchema,
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
import { z } from 'zod';
import type { HandlerDeps } from './handlers/applyToRide';
import { cancelRideOnPaymentDeclined } from './handlers/cancelRideOnPaymentDeclined';
import { confirmRideOnPaymentAuthorized } from './handlers/confirmRideOnPaymentAuthorized';
import { recordDriverOnDriverAssigned } from './handlers/recordDriverOnDriverAssigned';
import { recordFareOnFareCalculated } from './handlers/recordFareOnFareCalculated';
import { recordPaymentOnPaymentCaptured } from './handlers/recordPaymentOnPaymentCaptured';
import { rejectRideOnDriverUnavailable } from './handlers/rejectRideOnDriverUnavailable';
import { rideApi } from './http/openapi';
import { mountRoutes } from './http/routes';
import { rideCollections, riderLedger } from './store/collections';

export const SERVICE_NAME = 'ride-service';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3001),
});
export type RideServiceConfig = z.infer<typeof configSchema>;

/**
 * Reacts to → does (emits). HTTP: POST /rides → ride.requested; cancel → ride.cancelled; complete → ride.completed;
 * rating → ride.rated. Every change below also records, in the same transaction, a ledger row that the service folds
 * into the rider's trip summary shortly after.
 */
export function subscriptions(deps: HandlerDeps): ServiceDefinition['subscriptions'] {
  return [
    // driver.assigned → records the driver, DRIVER_ASSIGNED (emits nothing)
    on('driver.assigned', 'recordDriverOnDriverAssigned', recordDriverOnDriverAssigned(deps)),
    // fare.calculated → records the quote as the ride's fare (emits nothing)
    on('fare.calculated', 'recordFareOnFareCalculated', recordFareOnFareCalculated(deps)),
    // payment.authorized → CONFIRMED → ride.confirmed
    on('payment.authorized', 'confirmRideOnPaymentAuthorized', confirmRideOnPaymentAuthorized(deps)),
    // payment.declined → CANCELLED (payment_declined) → ride.cancelled
    on('payment.declined', 'cancelRideOnPaymentDeclined', cancelRideOnPaymentDeclined(deps)),
    // driver.unavailable → REJECTED → ride.rejected
    on('driver.unavailable', 'rejectRideOnDriverUnavailable', rejectRideOnDriverUnavailable(deps)),
    // payment.captured → the trip's paid and the rider's spent (emits nothing)
    on('payment.captured', 'recordPaymentOnPaymentCaptured', recordPaymentOnPaymentCaptured(deps)),
  ];
}

export function definition(config: RideServiceConfig): ServiceDefinition {
  const deps: HandlerDeps = { currency: config.CURRENCY };
  return {
    name: SERVICE_NAME,
    exchange: exchanges.ride,
    database: 'rides',
    collections: rideCollections,
    ledgers: [riderLedger(config.CURRENCY)],
    subscriptions: subscriptions(deps),
    routes: (router, routeDeps) => mountRoutes(router, { ...routeDeps, currency: config.CURRENCY }),
    api: rideApi,
  };
}

export async function start(env?: Env, options?: { store?: Store }): Promise<RunningService> {
  const config = loadConfig(configSchema, env);
  return startService(definition(config), { config, store: options?.store, handleSignals: options === undefined });
}

if (require.main === module) runMain(SERVICE_NAME, () => start());
