// driver-service: what it reacts to and what it emits; the kit (defineService) runs the rest.
import { defineService, exchanges, on, runMain } from '@ridehail/shared';
import { driverConfig, handlerDeps } from './config';
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

const service = defineService({
  name: 'driver-service',
  exchange: exchanges.driver,
  database: 'drivers',
  collections,
  ledgers: (config) => [driverLedger(config.CURRENCY)],
  config: driverConfig,
  deps: handlerDeps,
  subscriptions: (deps) => [
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
  ],
  routes: (router, deps, config) => mountDriverRoutes(router, { ...deps, currency: config.CURRENCY }),
  api: driverApi,
});
export const { configSchema, definition, start, subscriptions } = service;

if (require.main === module) runMain(service);
