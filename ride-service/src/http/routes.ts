// Mounts every ride-service route on the runtime's router.
import type { Router } from 'express';
import type { RideRouteDeps } from './deps';
import { mountRiderRoutes } from './riders';
import { mountRideRoutes } from './rides';

export function mountRoutes(router: Router, deps: RideRouteDeps): void {
  mountRiderRoutes(router, deps);
  mountRideRoutes(router, deps);
}
