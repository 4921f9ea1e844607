// ride.confirmed → ride-confirmed emails to the rider and the driver → notification.sent / notification.failed.
import type { EventHandler } from '@ridehail/shared';
import { planRideConfirmed } from '../domain/notification';
import type { NotificationHandlerDeps } from './deps';
import { deliverEmails } from './deliverEmails';

export function emailRiderAndDriverOnRideConfirmed(deps: NotificationHandlerDeps): EventHandler<'ride.confirmed'> {
  return (ctx) => deliverEmails(ctx, deps, planRideConfirmed(ctx.envelope.payload));
}
