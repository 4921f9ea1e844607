// notification-service's settings, and what its handlers are given from them: the mailer and the send lease.
import { createLogger, serviceConfig } from '@ridehail/shared';
import { z } from 'zod';
import { DEFAULT_SEND_LEASE_MS } from './handlers/deliverEmails';
import type { NotificationHandlerDeps } from './handlers/deps';
import { createMailer, type Mailer } from './mail/mailer';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

export const notificationConfig = serviceConfig(3004, {
  /** Where emails go (e.g. smtp://127.0.0.1:1025); unset: nodemailer's jsonTransport, nothing delivered. */
  SMTP_URL: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^smtps?:\/\/[^\s]+$/, 'must be an smtp:// or smtps:// URL')
      .optional(),
  ),
  MAIL_FROM: z.string().min(3).default('RideHail <no-reply@ridehail.example>'),
  SMTP_TIMEOUT_MS: z.coerce.number().int().min(100).default(10000),
  /** How long one delivery holds a notification while it sends; another delivery of the same fact waits for it. */
  SEND_LEASE_MS: z.coerce.number().int().min(1000).default(DEFAULT_SEND_LEASE_MS),
});
export type NotificationConfig = z.infer<typeof notificationConfig>;

export interface NotificationOverrides {
  mailer: Mailer;
}

export function notificationDeps(config: NotificationConfig, overrides: Partial<NotificationOverrides>): NotificationHandlerDeps {
  const logger = createLogger('notification-service', config.LOG_LEVEL);
  const mailer =
    overrides.mailer ?? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger, timeoutMs: config.SMTP_TIMEOUT_MS });
  return { mailer, sendLeaseMs: config.SEND_LEASE_MS };
}
