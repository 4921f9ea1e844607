// driver-service's composition root: config, collections, the "reacts to → emits" table, routes, and start/stop.
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
import type { HandlerDeps } from './handlers/deps';
import { releaseDriverOnPaymentDeclined } from './handlers/releaseDriverOnPaymentDeclined';
import { releaseDriverOnRideCancelled } from './handlers/releaseDriverOnRideCancelled';
import { releaseDriverOnRideCompleted } from './handlers/releaseDriverOnRideCompleted';
import { recordEarningsOnPaymentCaptured } from './handlers/recordEarningsOnPaymentCaptured';
import { recordRatingOnRideRated } from './handlers/recordRatingOnRideRated';
import { reserveDriverOnRideRequested } from './handlers/reserveDriverOnRideRequested';
import { startTripOnRideConfirmed } from './handlers/startTripOnRideConfirmed';
import { driverApi } from './http/openapi';
import { mountDriverRoutes } from './http/routes';
import { collections, driverLedger } from './store/collections';

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3002),
  /** How far from the pickup a driver may be reserved (DESIGN §2 step 2). */
  DRIVER_SEARCH_RADIUS_KM: z.coerce.number().positive().max(20_000).default(5),
});
export type DriverServiceConfig = z.infer<typeof configSchema>;

export function handlerDeps(config: DriverServiceConfig): HandlerDeps {
  return { radiusKm: config.DRIVER_SEARCH_RADIUS_KM, currency: config.CURRENCY };
}

export function subscriptions(deps: HandlerDeps): ServiceDefinition['subscriptions'] {
  return [
    // ride.requested   → driver.assigned | driver.unavailable (decided once per ride)
    on('ride.requested', 'reserveDriverOnRideRequested', reserveDriverOnRideRequested(deps)),
    // ride.confirmed   → — (trip CONFIRMED, driver ON_TRIP)
    on('ride.confirmed', 'startTripOnRideConfirmed', startTripOnRideConfirmed(deps)),
    // ride.completed   → driver.released (completed)
    on('ride.completed', 'releaseDriverOnRideCompleted', releaseDriverOnRideCompleted(deps)),
    // ride.cancelled   → driver.released (payment_declined | cancelled), or remembered when it comes first
    on('ride.cancelled', 'releaseDriverOnRideCancelled', releaseDriverOnRideCancelled(deps)),
    // payment.declined → driver.released (payment_declined)
    on('payment.declined', 'releaseDriverOnPaymentDeclined', releaseDriverOnPaymentDeclined(deps)),
    // payment.captured → — (trip earned, driver earnings)
    on('payment.captured', 'recordEarningsOnPaymentCaptured', recordEarningsOnPaymentCaptured(deps)),
    // ride.rated       → — (trip rating, driver rating)
    on('ride.rated', 'recordRatingOnRideRated', recordRatingOnRideRated(deps)),
  ];
}

export function definition(config: DriverServiceConfig): ServiceDefinition {
  return {
    name: 'driver-service',
    exchange: exchanges.driver,
    database: 'drivers',
    collections,
    ledgers: [driverLedger(config.CURRENCY)],
    subscriptions: subscriptions(handlerDeps(config)),
    routes: (router, deps) => mountDriverRoutes(router, { ...deps, currency: config.CURRENCY }),
    api: driverApi,
  };
}

export async function start(env?: Env, options?: { store?: Store }): Promise<RunningService> {
  const config = loadConfig(configSchema, env);
  return startService(definition(config), { config, store: options?.store, handleSignals: options === undefined });
}

if (require.main === module) runMain('driver-service', () => start());
