// What ride-service's routes need besides the runtime's store and logger: what its use cases need.
import type { RouteDeps } from '@ridehail/shared';
import type { UseCaseDeps } from '../application/deps';

export interface RideRouteDeps extends RouteDeps, UseCaseDeps {}
