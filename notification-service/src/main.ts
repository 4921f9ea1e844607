// notification-service: what it reacts to and what it emits; the kit (defineService) runs the rest.
import { defineService, exchanges, on, runMain } from '@ridehail/shared';
import { notificationConfig, notificationDeps } from './config';
import { emailReceiptOnRideCompleted } from './handlers/emailReceiptOnRideCompleted';
import { emailRiderAndDriverOnRideCancelled } from './handlers/emailRiderAndDriverOnRideCancelled';
import { emailRiderAndDriverOnRideConfirmed } from './handlers/emailRiderAndDriverOnRideConfirmed';
import { emailRiderOnRideRejected } from './handlers/emailRiderOnRideRejected';
import { notificationApi } from './http/openapi';
import { mountNotificationRoutes } from './http/routes';
import { collections } from './store/collections';

const service = defineService({
  name: 'notification-service',
  exchange: exchanges.notification,
  database: 'notifications',
  collections,
  config: notificationConfig,
  deps: notificationDeps,
  subscriptions: (deps) => [
    // ride.confirmed → ride-confirmed to rider and driver → notification.sent | notification.failed (one per record)
    on('ride.confirmed', 'emailRiderAndDriverOnRideConfirmed', emailRiderAndDriverOnRideConfirmed(deps)),
    // ride.rejected  → ride-rejected to the rider → notification.sent | notification.failed
    on('ride.rejected', 'emailRiderOnRideRejected', emailRiderOnRideRejected(deps)),
    // ride.cancelled → ride-cancelled to the rider (and the driver, if assigned) → notification.sent | notification.failed
    on('ride.cancelled', 'emailRiderAndDriverOnRideCancelled', emailRiderAndDriverOnRideCancelled(deps)),
    // ride.completed → receipt to the rider, with the fare → notification.sent | notification.failed
    on('ride.completed', 'emailReceiptOnRideCompleted', emailReceiptOnRideCompleted(deps)),
  ],
  routes: mountNotificationRoutes,
  api: notificationApi,
  // Ready only when the SMTP server answers too (always, with the jsonTransport).
  extraReadiness: (deps) => deps.mailer.isReady(),
  onStop: (deps) => deps.mailer.close(),
});
export const { configSchema, definition, start, subscriptions } = service;

if (require.main === module) runMain(service);
