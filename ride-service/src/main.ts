// ride-service: what it reacts to and what it emits; the kit (defineService) runs the rest.
import { defineService, exchanges, on, runMain, serviceConfig } from '@ridehail/shared';
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

/**
 * Reacts to → does (emits). HTTP: POST /rides → ride.requested; cancel → ride.cancelled; complete → ride.completed;
 * rating → ride.rated. Every change below also records, in the same transaction, a ledger row that the service folds
 * into the rider's trip summary shortly after.
 */
const service = defineService({
  name: 'ride-service',
  exchange: exchanges.ride,
  database: 'rides',
  collections: rideCollections,
  ledgers: (config) => [riderLedger(config.CURRENCY)],
  config: serviceConfig(3001, {}),
  deps: (config): HandlerDeps => ({ currency: config.CURRENCY }),
  subscriptions: (deps) => [
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
  ],
  routes: (router, deps, config) => mountRoutes(router, { ...deps, currency: config.CURRENCY }),
  api: rideApi,
});
export const { configSchema, definition, start, subscriptions } = service;

if (require.main === module) runMain(service);
