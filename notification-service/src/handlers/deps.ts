// What notification-service's handlers need besides the message (and its context's store).
import type { Mailer } from '../mail/mailer';

export interface NotificationHandlerDeps {
  mailer: Mailer;
  now?: () => Date;
  /** How long a delivery holds a record while it sends (default 30 s): a second delivery of the fact waits for it. */
  sendLeaseMs?: number;
}

export const isoNow = (deps: Pick<NotificationHandlerDeps, 'now'>): string => (deps.now ? deps.now() : new Date()).toISOString();
