// payment-service: what it reacts to and what it emits; the kit (defineService) runs the rest.
import { defineService, exchanges, on, runMain } from '@ridehail/shared';
import { paymentConfig, paymentDeps } from './config';
import { authorizePaymentOnDriverAssigned } from './handlers/authorizePaymentOnDriverAssigned';
import { capturePaymentOnRideCompleted } from './handlers/capturePaymentOnRideCompleted';
import { quoteFareOnRideRequested } from './handlers/quoteFareOnRideRequested';
import { voidPaymentOnRideCancelled } from './handlers/voidPaymentOnRideCancelled';
import { paymentApi } from './http/openapi';
import { mountPaymentRoutes } from './http/routes';
import { collections } from './store/collections';

const service = defineService({
  name: 'payment-service',
  exchange: exchanges.payment,
  database: 'payments',
  collections,
  config: paymentConfig,
  deps: paymentDeps,
  subscriptions: (deps) => [
    // ride.requested  → fare.calculated (once per ride)
    on('ride.requested', 'quoteFareOnRideRequested', quoteFareOnRideRequested(deps)),
    // driver.assigned → payment.authorized | payment.declined (exactly the quote; nothing if cancelled first)
    on('driver.assigned', 'authorizePaymentOnDriverAssigned', authorizePaymentOnDriverAssigned(deps)),
    // ride.cancelled  → payment.voided (if authorized), else the cancellation is remembered
    on('ride.cancelled', 'voidPaymentOnRideCancelled', voidPaymentOnRideCancelled(deps)),
    // ride.completed  → payment.captured (once)
    on('ride.completed', 'capturePaymentOnRideCompleted', capturePaymentOnRideCompleted(deps)),
  ],
  routes: mountPaymentRoutes,
  api: paymentApi,
});
export const { configSchema, definition, start, subscriptions } = service;
// The soak lane reads this from here; it lives with the gateway it names.
export { AUTHORIZATION_MADE_LOG } from './config';

if (require.main === module) runMain(service);
