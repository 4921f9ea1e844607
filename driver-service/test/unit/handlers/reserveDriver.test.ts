import { expect } from 'chai';
import { republished } from '@ridehail/shared/testing';
import { DriverHarness, north, paymentDeclined, rideCancelled, rideRequested } from '../../factories';

describe('driver-service on ride.requested', () => {
  let h: DriverHarness;
  beforeEach(async () => {
    h = await DriverHarness.create({ radiusKm: 5 });
  });

  it('reserves the nearest AVAILABLE driver and emits driver.assigned with what payment-service needs', async () => {
    const far = await h.seedDriver({ location: north(3) });
    const near = await h.seedDriver({ location: north(1) });
    const nearest = await h.seedDriver({ location: north(0.5), status: 'OFFLINE' });
    const ride = rideRequested({ paymentMethod: 'pm_card_declined' });

    expect(await h.deliver(ride)).to.equal('processed');

    expect(await h.driver(near.id)).to.include({ status: 'RESERVED', currentRideId: ride.payload.rideId, version: 2 });
    expect((await h.driver(far.id)).status).to.equal('AVAILABLE');
    expect((await h.driver(nearest.id)).status).to.equal('OFFLINE');
    const [assigned, ...more] = await h.eventsOf('driver.assigned');
    expect(more).to.have.length(0);
    expect(assigned?.causationId).to.equal(ride.id);
    expect(assigned?.payload).to.deep.include({
      rideId: ride.payload.rideId,
      driver: { id: near.id, name: near.name, email: near.email },
      riderId: ride.payload.rider.id,
      pickup: ride.payload.pickup,
      dropoff: ride.payload.dropoff,
      paymentMethod: 'pm_card_declined',
    });
    expect(assigned?.payload.distanceKm).to.be.closeTo(1, 0.01);
    expect(await h.trip(ride.payload.rideId)).to.include({ status: 'DRIVER_ASSIGNED', driverId: near.id });
  });

  it('skips drivers already RESERVED for another ride', async () => {
    const busy = await h.seedDriver({ location: north(0.2) });
    const other = await h.seedDriver({ location: north(2) });
    await h.deliver(rideRequested());
    const second = rideRequested();
    await h.deliver(second);
    expect((await h.driver(busy.id)).currentRideId).not.to.equal(second.payload.rideId);
    expect(await h.driver(other.id)).to.include({ status: 'RESERVED', currentRideId: second.payload.rideId });
  });

  it('emits driver.unavailable and reserves no one when no driver is within the radius', async () => {
    const outside = await h.seedDriver({ location: north(5.5) });
    const ride = rideRequested();
    await h.deliver(ride);
    expect((await h.driver(outside.id)).status).to.equal('AVAILABLE');
    expect(await h.eventsOf('driver.assigned')).to.have.length(0);
    const unavailable = await h.eventsOf('driver.unavailable');
    expect(unavailable.map((e) => e.payload)).to.deep.equal([
      { rideId: ride.payload.rideId, riderId: ride.payload.rider.id, reason: 'no available driver within 5 km of the pickup' },
    ]);
    expect(await h.trip(ride.payload.rideId)).to.include({ status: 'UNAVAILABLE' });
  });

  it('honours the configured radius', async () => {
    const wide = await DriverHarness.create({ radiusKm: 10 });
    const d = await wide.seedDriver({ location: north(8) });
    await wide.deliver(rideRequested());
    expect((await wide.driver(d.id)).status).to.equal('RESERVED');
  });

  it('acknowledges the same message again without effect', async () => {
    const d = await h.seedDriver();
    await h.seedDriver({ location: north(1) });
    const ride = rideRequested();
    await h.deliver(ride);
    expect(await h.deliver(ride)).to.equal('duplicate');
    expect(await h.eventsOf('driver.assigned')).to.have.length(1);
    expect((await h.driver(d.id)).version).to.equal(2);
  });

  it('decides once per ride: the same request under a new message id reserves no second driver and emits nothing', async () => {
    await h.seedDriver();
    const spare = await h.seedDriver({ location: north(1) });
    const ride = rideRequested();
    await h.deliver(ride);
    expect(await h.deliver(republished(ride))).to.equal('processed');
    expect((await h.driver(spare.id)).status).to.equal('AVAILABLE');
    expect(await h.events()).to.have.length(1);
  });

  it('decides once even when the first decision was "no driver"', async () => {
    const ride = rideRequested();
    await h.deliver(ride);
    const late = await h.seedDriver();
    await h.deliver(republished(ride));
    expect((await h.driver(late.id)).status).to.equal('AVAILABLE');
    expect((await h.events()).map((e) => e.type)).to.deep.equal(['driver.unavailable']);
  });

  it('reserves nothing and emits nothing for a ride cancelled before it was requested here', async () => {
    const d = await h.seedDriver();
    const ride = rideRequested();
    await h.deliver(rideCancelled(ride.payload.rideId));
    await h.deliver(ride);
    expect((await h.driver(d.id)).status).to.equal('AVAILABLE');
    expect(await h.events()).to.have.length(0);
    expect(await h.trip(ride.payload.rideId)).to.include({ status: 'CANCELLED' });
  });

  it('reserves nothing for a ride whose payment was declined before it was requested here', async () => {
    const d = await h.seedDriver();
    const ride = rideRequested();
    await h.deliver(paymentDeclined(ride.payload.rideId, d.id));
    await h.deliver(ride);
    expect((await h.driver(d.id)).status).to.equal('AVAILABLE');
    expect(await h.events()).to.have.length(0);
  });
});
