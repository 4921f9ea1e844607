// ride.cancelled → ride-cancelled emails to the rider, and to the driver if one was assigned.
import type { EventHandler } from '@ridehail/shared';
import { planRideCancelled } from '../domain/notification';
import type { NotificationHandlerDeps } from './deps';
import { deliverEmails } from './deliverEmails';

export function emailRiderAndDriverOnRideCancelled(deps: NotificationHandlerDeps): EventHandler<'ride.cancelled'> {
  return (ctx) => deliverEmails(ctx, deps, planRideCancelled(ctx.envelope.payload));
}
