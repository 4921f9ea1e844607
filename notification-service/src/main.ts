// notification-service's composition root: config, the mailer, and its "reacts to → emits" table.
import { z } from 'zod';
import {
  baseConfigSchema,
  createLogger,
  createStore,
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
import type { NotificationHandlerDeps } from './handlers/deps';
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
});
export type NotificationConfig = z.infer<typeof configSchema>;

export interface NotificationOverrides {
  /** The store PENDING records are created in; without it, the one the runtime mounts the routes with. */
  store?: Store;
  mailer?: Mailer;
}

export function definition(config: NotificationConfig, overrides: NotificationOverrides = {}): ServiceDefinition {
  const logger = createLogger('notification-service', config.LOG_LEVEL);
  const mailer =
    overrides.mailer ?? createMailer({ smtpUrl: config.SMTP_URL, from: config.MAIL_FROM, logger, timeoutMs: config.SMTP_TIMEOUT_MS });
  let store = overrides.store;
  const deps: NotificationHandlerDeps = {
    get store(): Store {
      if (store === undefined) throw new Error('notification-service handled a message before its store was known');
      return store;
    },
    mailer,
  };
  return {
    name: 'notification-service',
    exchange: exchanges.notification,
    database: 'notifications',
    collections,
    subscriptions: [
      // ride.confirmed → ride-confirmed to rider and driver → notification.sent | notification.failed (one per record)
      on('ride.confirmed', 'emailRiderAndDriverOnRideConfirmed', emailRiderAndDriverOnRideConfirmed(deps)),
      // ride.rejected  → ride-rejected to the rider → notification.sent | notification.failed
      on('ride.rejected', 'emailRiderOnRideRejected', emailRiderOnRideRejected(deps)),
      // ride.cancelled → ride-cancelled to the rider (and the driver, if assigned) → notification.sent | notification.failed
      on('ride.cancelled', 'emailRiderAndDriverOnRideCancelled', emailRiderAndDriverOnRideCancelled(deps)),
      // ride.completed → receipt to the rider, with the fare → notification.sent | notification.failed
      on('ride.completed', 'emailReceiptOnRideCompleted', emailReceiptOnRideCompleted(deps)),
    ],
    routes: (router, routeDeps) => {
      store ??= routeDeps.store;
      mountNotificationRoutes(router, routeDeps);
    },
    // Ready only when the SMTP server answers too (always, with the jsonTransport).
    extraReadiness: () => mailer.isReady(),
    onStop: () => mailer.close(),
  };
}

export async function start(env?: Env, options?: { store?: Store; mailer?: Mailer }): Promise<RunningService> {
  const config = loadConfig(configSchema, env ?? process.env);
  const store =
    options?.store ??
    createStore({
      mongoUrl: config.MONGO_URL,
      dbName: `${config.MONGO_DB_PREFIX}notifications`,
      logger: createLogger('notification-service', config.LOG_LEVEL),
    });
  return startService(definition(config, { store, mailer: options?.mailer }), { config, store, handleSignals: options === undefined });
}

if (require.main === module) runMain('notification-service', () => start());
