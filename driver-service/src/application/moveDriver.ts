// PUT /drivers/:id/location: a new position in any status; emits nothing (DESIGN §3).
import { NotFoundError, type Point, type Store } from '@ridehail/shared';
import { relocate, type Driver } from '../domain/driver';
import * as drivers from '../store/drivers';

export async function moveDriver(deps: { store: Store }, driverId: string, to: Point): Promise<Driver> {
  // Optimistic: a reservation committed meanwhile makes this retry on the new version, never overwrite it.
  return deps.store.run(async (tx) => {
    const driver = await drivers.byId(tx, driverId);
    if (driver === null) throw new NotFoundError('driver', driverId);
    return drivers.save(tx, relocate(driver, to, new Date().toISOString()));
  });
}
