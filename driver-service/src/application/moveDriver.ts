// PUT /drivers/:id/location: a new position in any status; emits nothing (DESIGN §3).
import { NotFoundError, type Point, type Store } from '@ridehail/shared';
import { relocate, type Driver } from '../domain/driver';
import { drivers } from '../store/collections';

export async function moveDriver(deps: { store: Store }, driverId: string, to: Point): Promise<Driver> {
  // Optimistic: a reservation committed meanwhile makes this retry on the new version, never overwrite it.
  return deps.store.run(async (tx) => {
    const repo = tx.repo(drivers);
    const driver = await repo.get(driverId);
    if (driver === null) throw new NotFoundError('driver', driverId);
    return repo.update(relocate(driver, to, new Date().toISOString()));
  });
}
