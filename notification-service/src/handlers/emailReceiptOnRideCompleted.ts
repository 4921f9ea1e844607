// ride.completed → a receipt email to the rider, with the fare.
import type { EventHandler } from '@ridehail/shared';
import { planReceipt } from '../domain/notification';
import type { NotificationHandlerDeps } from './deps';
import { deliverEmails } from './deliverEmails';

export function emailReceiptOnRideCompleted(deps: NotificationHandlerDeps): EventHandler<'ride.completed'> {
  return (ctx) => deliverEmails(ctx, deps, planReceipt(ctx.envelope.payload));
}
