// What notification-service's handlers need besides the message.
import type { Store } from '@ridehail/shared';
import type { Mailer } from '../mail/mailer';

export interface NotificationHandlerDeps {
  /** PENDING records are created, and interim outcomes saved, in transactions of their own (see deliverEmails). */
  store: Store;
  mailer: Mailer;
  now?: () => Date;
}

export const isoNow = (deps: Pick<NotificationHandlerDeps, 'now'>): string => (deps.now ? deps.now() : new Date()).toISOString();
