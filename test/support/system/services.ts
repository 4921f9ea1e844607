// The four services as the scripts see them: names, folders, default ports, exchanges and databases (DESIGN §1).
import path from 'node:path';
import { exchanges, type ServiceName } from '@ridehail/shared';
import { scriptEnv, type ScriptEnv, type ServiceUrlVariable } from './env';

export type ServiceKey = 'ride' | 'driver' | 'payment' | 'notification';

export interface ServiceInfo {
  key: ServiceKey;
  name: ServiceName;
  /** Folder of the workspace, relative to the repository root. */
  dir: string;
  defaultPort: number;
  /** The exchange it publishes to, without BROKER_PREFIX. */
  exchange: string;
  /** Its database, without MONGO_DB_PREFIX. */
  database: string;
  /** The variable that points the scripts (audit, demo) at a running instance. */
  urlVariable: ServiceUrlVariable;
}

export const services: readonly ServiceInfo[] = [
  {
    key: 'ride',
    name: 'ride-service',
    dir: 'ride-service',
    defaultPort: 3001,
    exchange: exchanges.ride,
    database: 'rides',
    urlVariable: 'RIDE_SERVICE_URL',
  },
  {
    key: 'driver',
    name: 'driver-service',
    dir: 'driver-service',
    defaultPort: 3002,
    exchange: exchanges.driver,
    database: 'drivers',
    urlVariable: 'DRIVER_SERVICE_URL',
  },
  {
    key: 'payment',
    name: 'payment-service',
    dir: 'payment-service',
    defaultPort: 3003,
    exchange: exchanges.payment,
    database: 'payments',
    urlVariable: 'PAYMENT_SERVICE_URL',
  },
  {
    key: 'notification',
    name: 'notification-service',
    dir: 'notification-service',
    defaultPort: 3004,
    exchange: exchanges.notification,
    database: 'notifications',
    urlVariable: 'NOTIFICATION_SERVICE_URL',
  },
];

export type ServiceUrls = Record<ServiceKey, string>;

export const repoRoot = path.resolve(__dirname, '..', '..', '..');

export const serviceKeys: readonly ServiceKey[] = services.map((s) => s.key);

export function serviceByKey(key: ServiceKey): ServiceInfo {
  const found = services.find((s) => s.key === key);
  if (!found) throw new Error(`unknown service ${key}`);
  return found;
}

export function serviceName(key: ServiceKey): string {
  return serviceByKey(key).name;
}

/** Base URLs from RIDE_SERVICE_URL etc., else http://127.0.0.1:3001-3004. */
export function serviceUrlsFromEnv(env: Pick<ScriptEnv, ServiceUrlVariable> = scriptEnv()): ServiceUrls {
  const urls: Partial<ServiceUrls> = {};
  for (const s of services) {
    urls[s.key] = (env[s.urlVariable] ?? `http://127.0.0.1:${s.defaultPort}`).replace(/\/+$/, '');
  }
  return urls as ServiceUrls;
}
