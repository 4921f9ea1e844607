// driver-service's settings, and what its handlers are given from them.
import { serviceConfig } from '@ridehail/shared';
import { z } from 'zod';
import type { HandlerDeps } from './handlers/deps';

export const driverConfig = serviceConfig(3002, {
  /** How far from the pickup a driver may be reserved (DESIGN §2 step 2). */
  DRIVER_SEARCH_RADIUS_KM: z.coerce.number().positive().max(20_000).default(5),
});
export type DriverServiceConfig = z.infer<typeof driverConfig>;

export function handlerDeps(config: DriverServiceConfig): HandlerDeps {
  return { radiusKm: config.DRIVER_SEARCH_RADIUS_KM, currency: config.CURRENCY };
}
