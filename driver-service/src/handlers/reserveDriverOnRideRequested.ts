// ride.requested → reserve the nearest AVAILABLE driver in range (one atomic update) → driver.assigned | driver.unavailable.
import { sortKey, transactional, type EventHandler } from '@ridehail/shared';
import { distanceKm, fromGeoPoint } from '../domain/geo';
import { assignDriver, isDecided, markUnavailable } from '../domain/trip';
import * as drivers from '../store/drivers';
import * as trips from '../store/trips';
import { clock, type HandlerDeps } from './deps';

export function reserveDriverOnRideRequested(deps: HandlerDeps): EventHandler<'ride.requested'> {
  const now = clock(deps);
  return transactional<'ride.requested'>(async (p, uow, ctx) => {
    const existing = await trips.ofRide(uow.tx, p.rideId);
    // Decide once per ride: a repeat (even under a new message id) or a ride cancelled first reserves nothing.
    if (isDecided(existing)) {
      ctx.logger.info(`ride ${p.rideId} was already decided here (${existing?.status}); nothing to do`);
      return;
    }
    const at = now();
    const driver = await drivers.reserveNearest(uow.tx, p.pickup, deps.radiusKm, p.rideId, at);
    if (driver === null) {
      await trips.save(uow.tx, existing, markUnavailable(existing, p.rideId, at), deps.currency);
      await uow.emit('driver.unavailable', {
        rideId: p.rideId,
        riderId: p.rider.id,
        reason: `no available driver within ${deps.radiusKm} km of the pickup`,
      });
      return;
    }
    await trips.save(uow.tx, existing, assignDriver(existing, p.rideId, driver.id, at, sortKey(at, p.rideId)), deps.currency);
    await uow.emit('driver.assigned', {
      rideId: p.rideId,
      driver: { id: driver.id, name: driver.name, email: driver.email },
      riderId: p.rider.id,
      pickup: p.pickup,
      dropoff: p.dropoff,
      paymentMethod: p.paymentMethod,
      // How far the reserved driver is from the pickup.
      distanceKm: Math.round(distanceKm(fromGeoPoint(driver.location), p.pickup) * 1000) / 1000,
    });
  });
}
