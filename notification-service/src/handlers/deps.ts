// What notification-service's handlers need besides the message (and its context's store).
import type { Mailer } from '../mail/mailer';

export interface NotificationHandlerDeps {
  mailer: Mailer;
  now?: () => Date;
}

export const isoNow = (deps: Pick<NotificationHandlerDeps, 'now'>): string => (deps.now ? deps.now() : new Date()).toISOString();
