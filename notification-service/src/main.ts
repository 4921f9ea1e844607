// notification-service's composition root: config, the mailer, and its "reacts to → emits" table.
import { z } from 'zod';
import {
  baseConfigSchema,
  createLogger,
  exchanges,
  loadConfig,
  on,
  runMain,
  startService,
  type Env,
  type RunningService,
  type ServiceDefinition,
  type Store,
} from '@ridehail/shared';
import { emailReceiptOnRideCompleted } from './handlers/emailReceiptOnRideCompleted';
import { emailRiderAndDriverOnRideCancelled } from './handlers/emailRiderAndDriverOnRideCancelled';
import { emailRiderAndDriverOnRideConfirmed } from './handlers/emailRiderAndDriverOnRideConfirmed';
import { emailRiderOnRideRejected } from './handlers/emailRiderOnRideRejected';
import { DEFAULT_SEND_LEASE_MS } from './handlers/deliverEmails';
import type { NotificationHandlerDeps } from './handlers/deps';
import { notificationApi } from './http/openapi';
import { mountNotificationRoutes } from './http/routes';
import { createMailer, type Mailer } from './mail/mailer';
import { collections } from './store/collections';

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

export const configSchema = baseConfigSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3004),
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
export type NotificationConfig = z.infer<typeof configSchema>;

/** Reacts to → emits: the service's whole table, one line per consumed event. */
export function subscriptions(deps: NotificationHandlerDeps): ServiceDefinition['subscriptions'] {
  return [
    // ride.confirmed → ride-confirmed to rider and driver → notification.sent | notification.failed (one per record)
    on('ride.confirmed', 'emailRiderAndDriverOnRideConfirmed', emailRiderAndDriverOnRideConfirmed(deps)),
    // ride.rejected  → ride-rejected to the rider → notification.sent | notification.failed
    on('ride.rejected', 'emailRiderOnRideRejected', emailRiderOnRideRejected(deps)),
    // ride.cancelled → ride-cancelled to the rider (and the driver, if assigned) → notification.sent | notification.failed
    on('ride.cancelled', 'emailRiderAndDriverOnRideCancelled', emailRiderAndDriverOnRideCancelled(deps)),
    // ride.completed → receipt to the rider, with the fare → notification.sent | notification.failed
    on('ride.completed', 'emailReceiptOnRideCompleted', emailReceiptOnRideCompleted(deps)),
  ];
}

export interface NotificationOverrides {
  mailer?: Mailer;
}

export function definition(config: NotificationConfig, overrides: NotificationOverrides = {}): ServiceDefinition {
  const logger = createLogger('notification-service', config.LOG_LEVEL);
  const mailer =
    overrides.mailer ?? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger, timeoutMs: config.SMTP_TIMEOUT_MS });
  const deps: NotificationHandlerDeps = { mailer, sendLeaseMs: config.SEND_LEASE_MS };
  return {
    name: 'notification-service',
    exchange: exchanges.notification,
    database: 'notifications',
    collections,
    subscriptions: subscriptions(deps),
    routes: (router, routeDeps) => mountNotificationRoutes(router, routeDeps),
    api: notificationApi,
    // Ready only when the SMTP server answers too (always, with the jsonTransport).
    extraReadiness: () => mailer.isReady(),
    onStop: () => mailer.close(),
  };
}

export async function start(env?: Env, options?: { store?: Store; mailer?: Mailer }): Promise<RunningService> {
  const config = loadConfig(configSchema, env);
  return startService(definition(config, { mailer: options?.mailer }), {
    config,
    store: options?.store,
    handleSignals: options === undefined,
  });
}

if (require.main === module) runMain('notification-service', () => start());
