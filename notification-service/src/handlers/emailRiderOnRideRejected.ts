// ride.rejected → a ride-rejected email to the rider → notification.sent / notification.failed.
import type { EventHandler } from '@ridehail/shared';
import { planRideRejected } from '../domain/notification';
import type { NotificationHandlerDeps } from './deps';
import { deliverEmails } from './deliverEmails';

export function emailRiderOnRideRejected(deps: NotificationHandlerDeps): EventHandler<'ride.rejected'> {
  return (ctx) => deliverEmails(ctx, deps, planRideRejected(ctx.envelope.payload));
}
